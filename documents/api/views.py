"""Document endpoints: upload, list, update, download and delete within a dataset."""

import json
import logging
import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from documents import services
from documents.api import serializers
from documents.api.filters import document_facets, filtered_documents, parse_list_query
from documents.exceptions import DocumentNotFound
from documents.models import Document
from documents.querysets import owned_dataset, visible_dataset
from documents.uploads import UploadMultiPartParser, raw_name_upload_handlers
from ragflow_site.api.responses import json_result, result
from ragflow_site.api.validation import parse_body, read_lenient_json, require_fields
from ragflow_site.exceptions import ArgumentError, DataError, RetCode

logger = logging.getLogger(__name__)

UPLOAD_TYPES = ("local", "web", "empty")
# Only these keys of the ``parser_config`` form field of an upload override the dataset's config.
UPLOAD_PARSER_CONFIG_KEYS = ("table_column_mode", "table_column_roles")


class UploadRequestMixin:
    """Parse multipart bodies so that empty and over-long file names can be reported."""

    parser_classes = [JSONParser, UploadMultiPartParser, FormParser]

    def initialize_request(self, request, *args, **kwargs):
        request.upload_handlers = raw_name_upload_handlers(request)
        return super().initialize_request(request, *args, **kwargs)


def _upload_parser_config_overrides(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise ArgumentError(f"parser_config must be a JSON object, got {raw[:128]!r}.") from None
    if not isinstance(value, dict):
        raise ArgumentError(f"parser_config must be a JSON object, got {raw[:128]!r}.")
    from knowledgebases.parser_config import ParserConfig
    from pydantic import ValidationError

    overrides = {key: value[key] for key in UPLOAD_PARSER_CONFIG_KEYS if key in value}
    try:
        return ParserConfig.model_validate(overrides).model_dump(exclude_unset=True)
    except ValidationError as error:
        raise ArgumentError(f"Invalid parser_config: {error.errors()[0]['msg']}.") from None


def upload_response(request, outcome: services.UploadOutcome) -> Response:
    """Build the upload envelope: every file stored, or some stored with the errors of the others."""
    raw = (request.query_params.get("return_raw_files") or "").lower() == "true"
    to_data = serializers.raw_uploaded_document_data if raw else serializers.uploaded_document_data
    data = [to_data(document) for document in outcome.documents]
    if outcome.errors:
        return Response({"code": int(RetCode.SERVER_ERROR), "message": "\n".join(outcome.errors), "data": data})
    return result(data)


def upload_files(request, dataset_id: str) -> services.UploadOutcome:
    return services.upload_documents(
        dataset_id=dataset_id,
        files=request.FILES.getlist("file"),
        user=request.user,
        tenant_id=tenant_id_of(request),
        empty_name_parts=getattr(request, "empty_file_name_parts", 0),
        parser_config_overrides=_upload_parser_config_overrides(request.POST.get("parser_config")),
    )


class DatasetDocumentsView(UploadRequestMixin, APIView):
    """``/datasets/{dataset_id}/documents``: upload (POST), list (GET), delete (DELETE)."""

    def post(self, request, dataset_id):
        upload_type = request.query_params.get("type") or "local"
        if upload_type not in UPLOAD_TYPES:
            raise ArgumentError('`type` must be one of "local", "web", or "empty".')
        if upload_type == "web":
            # NOTE: crawling a page into a PDF needs a headless browser, which this server does not ship.
            raise ArgumentError("Uploading a web page (`type=web`) is not supported by this server; upload the file instead.")
        if upload_type == "empty":
            payload = read_lenient_json(request)
            document = services.create_empty_document(
                dataset_id=dataset_id, name=payload.get("name"), user=request.user, tenant_id=tenant_id_of(request)
            )
            return result([serializers.uploaded_document_data(document)])
        return upload_response(request, upload_files(request, dataset_id))

    def get(self, request, dataset_id):
        query = parse_list_query(request.query_params)
        visible_dataset(dataset_id, request.user, tenant_id_of(request), message=f"You don't own the dataset {dataset_id}. ")
        if query.facets:
            return json_result(document_facets(dataset_id, query))
        documents = filtered_documents(dataset_id, query)
        total = documents.count()
        start = (query.page - 1) * query.page_size
        page = documents[start : start + query.page_size]
        return json_result({"total": total, "docs": [serializers.listed_document_data(document) for document in page]})

    def delete(self, request, dataset_id):
        body = parse_body(request, serializers.DeleteDocumentsRequest)
        dataset = visible_dataset(dataset_id, request.user, tenant_id_of(request), message=f"You don't own the dataset {dataset_id}. ")
        deleted = services.delete_documents(dataset=dataset, ids=body.ids, delete_all=body.delete_all)
        return result({"deleted": deleted})


class DocumentView(APIView):
    """``/datasets/{dataset_id}/documents/{document_id}``: download (GET), update (PATCH, legacy PUT)."""

    def get(self, request, dataset_id, document_id):
        visible_dataset(dataset_id, request.user, tenant_id_of(request), message="document not found")
        document = Document.objects.visible_to(request.user, tenant_id_of(request)).filter(pk=document_id).first()
        if document is None:
            raise DocumentNotFound("document not found")
        if document.dataset_id != dataset_id:
            raise DataError(f"The dataset not own the document {document_id}.")
        return _file_response(document)

    def patch(self, request, dataset_id, document_id):
        payload = read_lenient_json(request)
        if not isinstance(payload, dict):
            raise ArgumentError(f"Invalid request payload: expected object, got {type(payload).__name__}")
        serializers.reject_null_name(payload)
        dataset = owned_dataset(dataset_id, tenant_id_of(request), message="you don't own the dataset")
        document = Document.objects.in_dataset(dataset.id).filter(pk=document_id).first()
        if document is None:
            raise DocumentNotFound("the dataset doesn't own the document")
        changes = serializers.parse_document_changes(payload)
        services.check_read_only_fields(document, payload)
        document = services.update_document(document=document, changes=changes)
        return result(serializers.document_data(document))

    put = patch


def _file_response(document: Document) -> FileResponse:
    if not document.location or document.size == 0:
        raise DataError("This file is empty.")
    try:
        handle = default_storage.open(document.location, "rb")
    except FileNotFoundError:
        logger.error("Stored file %s of document %s is missing", document.location, document.id)
        raise DataError("This file is empty.") from None
    content_type = mimetypes.guess_type(document.name)[0] or "application/octet-stream"
    # FileResponse writes RFC 6266 / RFC 5987 ``filename*=utf-8''...`` for names that are not ASCII.
    return FileResponse(handle, as_attachment=True, filename=document.name, content_type=content_type)


class FileUploadAliasView(UploadRequestMixin, APIView):
    """``POST /file``: the legacy upload with the dataset id in the ``kb_id`` form field."""

    def post(self, request):
        require_fields(request.POST, "kb_id")
        return upload_response(request, upload_files(request, request.POST["kb_id"]))
