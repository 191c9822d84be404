"""Start and stop parsing (two route families with different responses) and cancel single tasks."""

from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from documents.choices import RunStatus
from documents.models import Document
from documents.querysets import visible_dataset
from ragflow_site.api.responses import json_result, result
from ragflow_site.api.validation import read_lenient_json
from ragflow_site.exceptions import ArgumentError, DataError
from tasks import services

PIPELINE_MESSAGE = (
    "Datasets configured with an ingestion pipeline cannot be parsed with `/datasets/{dataset_id}/chunks`. "
    "Use `/documents/ingest` instead."
)
STOP_INVALID_STATE = "Can't stop parsing document that has not started or already completed"


def _document_ids(payload) -> tuple[list[str], list[str]]:
    """Return the unique ids in request order and the error lines for duplicates."""
    ids = payload.get("document_ids")
    if not ids or not isinstance(ids, list):
        raise DataError("`document_ids` is required")
    unique = list(dict.fromkeys(str(item) for item in ids))
    duplicates = sorted({str(item) for item in ids if ids.count(item) > 1})
    return unique, [f"Duplicate document ids: {item}" for item in duplicates]


def _dataset(request, dataset_id: str):
    return visible_dataset(dataset_id, request.user, tenant_id_of(request), message=f"You don't own the dataset {dataset_id}.")


def _split_found(dataset, ids: list[str]) -> tuple[list[Document], list[str]]:
    found = {document.id: document for document in Document.objects.in_dataset(dataset.id).filter(pk__in=ids)}
    return [found[item] for item in ids if item in found], [item for item in ids if item not in found]


def _batch_result(outcome: services.BatchOutcome, request_errors: list[str]):
    """Render ``{"success_count": N}`` with an ``errors`` list when there is anything to report."""
    data = {"success_count": outcome.success_count}
    if request_errors or outcome.errors:
        data["errors"] = request_errors + outcome.errors
    return result(data)


class DatasetChunksParseView(APIView):
    """SDK family: ``POST`` starts and ``DELETE`` stops parsing of ``document_ids``."""

    def post(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        if dataset.pipeline_id:
            raise ArgumentError(PIPELINE_MESSAGE)
        ids, duplicate_errors = _document_ids(read_lenient_json(request))
        documents, missing = _split_found(dataset, ids)
        if any(document.run == RunStatus.RUNNING for document in documents):
            raise DataError("Can't parse document that is currently being processed")

        outcome = services.queue_documents(dataset=dataset, document_ids=[d.id for d in documents], reject_running=True)
        if outcome.errors:
            raise DataError(outcome.errors[0])
        if missing:
            raise DataError(f"Documents not found: {missing!r}")
        if duplicate_errors:
            if not outcome.success_count:
                raise DataError("; ".join(duplicate_errors))
            return result({"success_count": outcome.success_count, "errors": duplicate_errors})
        return result()

    def delete(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        ids, duplicate_errors = _document_ids(read_lenient_json(request))
        documents, missing = _split_found(dataset, ids)
        if missing:
            raise DataError(f"you don't own the document {missing[0]}")
        if any(document.run != RunStatus.RUNNING for document in documents):
            return json_result(
                {"error_code": "DOC_STOP_PARSING_INVALID_STATE"}, message=STOP_INVALID_STATE, code=102
            )
        outcome = services.stop_documents(documents=documents, append_message=False)
        if duplicate_errors:
            return result({"success_count": outcome.success_count, "errors": duplicate_errors})
        return result()


class DocumentsParseView(APIView):
    """REST family ``POST .../documents/parse``: restarts running documents too."""

    def post(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        ids, errors = _document_ids(read_lenient_json(request))
        documents, missing = _split_found(dataset, ids)
        outcome = services.queue_documents(dataset=dataset, document_ids=[d.id for d in documents], reject_running=False)
        if missing:
            raise DataError(f"Documents not found: {missing!r}")
        return _batch_result(outcome, errors)


class DocumentsStopView(APIView):
    """REST family ``POST .../documents/stop``."""

    def post(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        ids, errors = _document_ids(read_lenient_json(request))
        documents, missing = _split_found(dataset, ids)
        if missing:
            raise DataError(f"Documents not found: {missing!r}")
        outcome = services.stop_documents(documents=documents, append_message=True)
        return _batch_result(outcome, errors)


class TaskCancelView(APIView):
    """``POST /tasks/{id}/cancel``: succeeds for unknown ids, as RAGFlow does."""

    def post(self, request, task_id: str):
        services.cancel_task(task_id=task_id, tenant_id=tenant_id_of(request))
        return json_result(True)


class TaskDetailView(APIView):
    """``PATCH /tasks/{id}`` with ``{"action": "stop"}``, the same as the cancel route."""

    def patch(self, request, task_id: str):
        action = read_lenient_json(request).get("action")
        if action != "stop":
            raise ArgumentError(f"Invalid action '{action}'. Only 'stop' is supported.", include_data=True)
        services.cancel_task(task_id=task_id, tenant_id=tenant_id_of(request))
        return json_result(True)
