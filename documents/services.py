"""Writes on documents: upload, update, reset for re-parsing, stop and delete.

Each use case runs in one transaction and keeps the dataset counters (``doc_num``, ``chunk_num``,
``token_num``) equal to the sums over its documents. Stored files are written before the row that
points at them and removed only after the deleting transaction commits, so a row never points at
a missing file.
"""

import hashlib
import logging
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum

from documents.choices import DocumentStatus, DocumentType, RunStatus
from documents.exceptions import DocumentBusy, FileRejected, InvalidUpload, UploadFailed
from documents.filetypes import SIGNATURE_PROBE_BYTES, content_mismatch, document_type_of, forced_chunk_method, suffix_of
from documents.models import NAME_MAX_BYTES, Document
from documents.naming import name_too_long, unique_document_name
from documents.querysets import dataset_for_upload
from documents.storage import document_key, remove_stored_files
from knowledgebases.models import Dataset
from ragflow_site.exceptions import ArgumentError, DataError
from ragflow_site.models import new_id

logger = logging.getLogger(__name__)

# A concurrent upload can take the chosen name between the check and the insert. Each retry reads
# the other upload's committed name, so a few retries are enough.
NAME_CONFLICT_RETRIES = 5
NAME_CONSTRAINT = "documents_document_name_unique"
FILE_NAME_TOO_LONG = f"File name must be {NAME_MAX_BYTES} bytes or less."


# --- Upload ------------------------------------------------------------------------------------


@dataclass
class UploadOutcome:
    """Documents created by an upload and one message per rejected file."""

    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def upload_file_name(upload) -> str:
    """Return the client's file name; Django shortens ``name`` past 255 characters, ``raw_name`` keeps it."""
    return getattr(upload, "raw_name", None) or upload.name or ""


def upload_documents(*, dataset_id: str, files: list, user, tenant_id: str, empty_name_parts: int = 0,
                     parser_config_overrides: dict | None = None) -> UploadOutcome:
    """Store each uploaded file as a new document of the dataset.

    Request-level problems (no file, empty or too long names) reject the whole request before
    anything is written. Problems of one file (unsupported type, content that does not match the
    extension) reject only that file. Raise UploadFailed when every file was rejected.
    """
    dataset = dataset_for_upload(dataset_id, user, tenant_id)

    if not files and not empty_name_parts:
        raise InvalidUpload("No file part!")
    if empty_name_parts or any(not upload_file_name(upload) for upload in files):
        raise InvalidUpload("No file selected!")
    if any(name_too_long(upload_file_name(upload)) for upload in files):
        raise InvalidUpload(FILE_NAME_TOO_LONG)

    outcome = UploadOutcome()
    for upload in files:
        try:
            document = _create_document_from_upload(dataset, upload, user, parser_config_overrides)
        except FileRejected as error:
            logger.info("Rejected upload to dataset %s: %s", dataset.id, error)
            outcome.errors.append(str(error))
            continue
        outcome.documents.append(document)

    if not outcome.documents:
        raise UploadFailed("\n".join(outcome.errors))
    return outcome


def _read_head_and_digest(upload) -> tuple[bytes, str, int]:
    """Return the first bytes, the SHA-256 hex digest and the size of an uploaded file."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < SIGNATURE_PROBE_BYTES:
            head += chunk[: SIGNATURE_PROBE_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return head, digest.hexdigest(), size


def _create_document_from_upload(dataset: Dataset, upload, user, parser_config_overrides: dict | None) -> Document:
    name = upload_file_name(upload)
    doc_type = document_type_of(name)
    if doc_type == DocumentType.OTHER:
        raise FileRejected(f"{name}: This type of file has not been supported yet!")

    suffix = suffix_of(name)
    head, content_hash, size = _read_head_and_digest(upload)
    expected = content_mismatch(suffix, head)
    if expected is not None:
        raise FileRejected(f"{name}: The file content does not match the .{suffix} extension; expected {expected}.")

    document_id = new_id()
    stored_key = default_storage.save(document_key(dataset.id, document_id, suffix), upload)
    try:
        document = _insert_document(
            dataset,
            requested_name=name,
            id=document_id,
            created_by=user,
            location=stored_key,
            size=size,
            type=doc_type,
            suffix=suffix,
            chunk_method=forced_chunk_method(name, doc_type) or dataset.chunk_method,
            pipeline_id=dataset.pipeline_id,
            parser_config=_upload_parser_config(dataset, parser_config_overrides),
            content_hash=content_hash,
        )
    except BaseException:
        # The row was not written, so its file must not stay behind.
        remove_stored_files([stored_key])
        raise

    logger.info("Uploaded document %s (%s bytes) to dataset %s as %s", document.id, size, dataset.id, stored_key)
    _log_same_content(document)
    return document


def _upload_parser_config(dataset: Dataset, overrides: dict | None) -> dict:
    from knowledgebases.parser_config import deep_merge

    return deep_merge(dataset.parser_config or {}, overrides)


def _insert_document(dataset: Dataset, *, requested_name: str, **fields) -> Document:
    """Insert a document under the first free variant of ``requested_name`` and count it in the dataset."""
    for attempt in range(1, NAME_CONFLICT_RETRIES + 1):
        name = unique_document_name(dataset.id, requested_name)
        try:
            with transaction.atomic():
                document = Document.objects.create(dataset=dataset, name=name, **fields)
                Dataset.objects.filter(pk=dataset.pk).update(doc_num=F("doc_num") + 1)
            return document
        except IntegrityError as error:
            if NAME_CONSTRAINT not in str(error):
                raise
            logger.info("Name %r in dataset %s was taken concurrently (attempt %s)", name, dataset.id, attempt)
    raise DataError(f"Could not find a free name for {requested_name} in dataset {dataset.id}; retry the upload.")


def _log_same_content(document: Document) -> None:
    earlier = (
        Document.objects.in_dataset(document.dataset_id)
        .with_content_hash(document.content_hash)
        .exclude(pk=document.pk)
        .values_list("id", flat=True)
        .first()
    )
    if earlier is not None:
        logger.info("Document %s has the same content as document %s in dataset %s", document.id, earlier, document.dataset_id)


def create_empty_document(*, dataset_id: str, name, user, tenant_id: str) -> Document:
    """Create a virtual document with no file (RAGFlow's upload with ``type=empty``)."""
    dataset = dataset_for_upload(dataset_id, user, tenant_id)
    if not isinstance(name, str) or not name.strip():
        raise ArgumentError("File name can't be empty.")
    if name_too_long(name):
        raise ArgumentError(FILE_NAME_TOO_LONG)
    if Document.objects.in_dataset(dataset.id).filter(name=name).exists():
        raise DataError("Duplicated document name in the same dataset.")

    try:
        with transaction.atomic():
            document = Document.objects.create(
                dataset=dataset,
                name=name,
                created_by=user,
                type=DocumentType.VIRTUAL,
                suffix=suffix_of(name),
                chunk_method=dataset.chunk_method,
                pipeline_id=dataset.pipeline_id,
                parser_config=_upload_parser_config(dataset, None),
            )
            Dataset.objects.filter(pk=dataset.pk).update(doc_num=F("doc_num") + 1)
    except IntegrityError as error:
        if NAME_CONSTRAINT not in str(error):
            raise
        raise DataError("Duplicated document name in the same dataset.") from None
    logger.info("Created empty document %s in dataset %s", document.id, dataset.id)
    return document


# --- Chunks and tasks of documents ---------------------------------------------------------------


def delete_chunks_of_documents(document_ids: list[str]) -> int:
    """Delete the chunks of the documents; return how many were deleted."""
    from documents import chunk_store

    return chunk_store.delete_chunks_of_documents(document_ids)


def remove_documents_from_graphs(document_ids: list[str]) -> None:
    """Remove the documents' entities and relations from their datasets' knowledge graphs."""
    from knowledgebases.graph import remove_documents

    remove_documents(document_ids)


def delete_tasks_of_documents(document_ids: list[str]) -> int:
    """Delete the task rows of the documents and flag the unfinished ones as cancelled.

    The flags are set after the transaction commits, so a running worker stops at its next check;
    should Redis be down, the worker still finds its task row gone when it stores its chunks.
    """
    from tasks import cancellation
    from tasks.models import Task

    tasks = Task.objects.filter(document_id__in=document_ids)
    unfinished = list(tasks.unfinished().values_list("id", flat=True))
    deleted, _ = tasks.delete()
    if unfinished:
        transaction.on_commit(lambda: _flag_cancelled(cancellation, unfinished))
    return deleted


def _flag_cancelled(cancellation, task_ids: list[str]) -> None:
    try:
        cancellation.request_cancel(task_ids)
    except Exception as error:  # noqa: BLE001 - the row is gone, so the worker discards its work anyway
        logger.warning("Could not flag deleted tasks %s as cancelled: %r", task_ids, error)


def set_chunks_available(document_ids: list[str], available: bool) -> int:
    """Include (True) or exclude (False) the documents' chunks in retrieval; return how many changed."""
    from documents.models import Chunk

    if not document_ids:
        return 0
    return Chunk.objects.filter(document_id__in=document_ids).update(available=available)


def _release_counters(documents: list[Document]) -> None:
    """Subtract the documents' chunk and token counts from their datasets."""
    per_dataset: dict[str, list[int]] = {}
    for document in documents:
        sums = per_dataset.setdefault(document.dataset_id, [0, 0])
        sums[0] += document.chunk_num
        sums[1] += document.token_num
    for dataset_id, (chunks, tokens) in per_dataset.items():
        if chunks or tokens:
            Dataset.objects.filter(pk=dataset_id).update(chunk_num=F("chunk_num") - chunks, token_num=F("token_num") - tokens)


# --- Update ---------------------------------------------------------------------------------------


def reset_documents_for_reparse(documents: list[Document]) -> None:
    """Return parsed documents to UNSTART: drop their chunks and tasks and release their counters.

    Call inside a transaction with the document rows locked (``select_for_update``).
    """
    if not documents:
        return
    ids = [document.id for document in documents]
    delete_chunks_of_documents(ids)
    delete_tasks_of_documents(ids)
    _release_counters(documents)
    Document.objects.filter(pk__in=ids).update(
        run=RunStatus.UNSTART, progress=0, progress_msg="", chunk_num=0, token_num=0, process_duration=0
    )
    for document in documents:
        document.run, document.progress, document.progress_msg = RunStatus.UNSTART, 0, ""
        document.chunk_num = document.token_num = 0
        document.process_duration = 0
    logger.info("Reset documents %s for re-parsing", ids)


@dataclass
class DocumentChanges:
    """Validated changes of one document update; None means the key was not sent."""

    name: str | None = None
    chunk_method: str | None = None
    pipeline_id: str | None = None
    parser_config: dict | None = None
    meta_fields: dict | None = None
    enabled: int | None = None


UNCHANGEABLE_IN_UPDATE = ("chunk_count", "token_count")
# Images and slide decks always use their own chunk methods.
FIXED_CHUNK_METHOD_SUFFIXES = frozenset({"ppt", "pptx", "pages"})
PROGRESS_TOLERANCE = 1e-6


def check_read_only_fields(document: Document, payload: dict) -> None:
    """Reject attempts to change counters and progress, which only parsing may change."""
    stored = {"chunk_count": document.chunk_num, "token_count": document.token_num}
    for key in UNCHANGEABLE_IN_UPDATE:
        if key in payload and payload[key] != stored[key]:
            raise DataError(f"can't change `{key}`")
    if "progress" in payload and abs(float(payload["progress"]) - document.progress) > PROGRESS_TOLERANCE:
        raise DataError("can't change `progress`")


def update_document(*, document: Document, changes: DocumentChanges) -> Document:
    """Apply a validated update: rename, metadata, chunk method and parser_config, enabled flag.

    A change of chunk method, pipeline or parser_config resets a parsed document for re-parsing,
    and is rejected while the document is being parsed.
    """
    from knowledgebases.parser_config import deep_merge, default_parser_config

    with transaction.atomic():
        document = Document.objects.select_for_update().get(pk=document.pk)
        _check_new_name(document, changes)
        _check_chunk_method(document, changes)

        update_fields: set[str] = set()
        if changes.name is not None and changes.name != document.name:
            document.name = changes.name
            update_fields.add("name")
        if changes.meta_fields is not None:
            document.meta_fields = changes.meta_fields
            update_fields.add("meta_fields")
        if changes.enabled is not None:
            document.status = DocumentStatus.ENABLED if changes.enabled else DocumentStatus.DISABLED
            update_fields.add("status")

        needs_reset = False
        if changes.pipeline_id is not None and changes.pipeline_id != document.pipeline_id:
            document.pipeline_id = changes.pipeline_id
            update_fields.add("pipeline_id")
            needs_reset = True
        new_config = document.parser_config
        if changes.chunk_method is not None and changes.chunk_method != document.chunk_method:
            document.chunk_method = changes.chunk_method
            update_fields.add("chunk_method")
            needs_reset = True
            if changes.parser_config is None:
                new_config = default_parser_config(changes.chunk_method)
        elif changes.chunk_method is not None and changes.parser_config is None:
            new_config = default_parser_config(changes.chunk_method)
        if changes.parser_config is not None:
            new_config = deep_merge(document.parser_config, changes.parser_config)
        if new_config != document.parser_config:
            document.parser_config = new_config
            update_fields.add("parser_config")
            needs_reset = True

        if needs_reset and document.run == RunStatus.RUNNING:
            raise DocumentBusy(
                "Can't change the chunk method, pipeline or parser_config of a document that is being parsed; "
                "stop parsing it first."
            )
        if update_fields:
            document.save(update_fields=update_fields)
        if changes.enabled is not None:
            set_chunks_available([document.id], bool(changes.enabled))
        if needs_reset and _is_parsed(document):
            reset_documents_for_reparse([document])

    logger.info("Updated document %s (%s)", document.id, ", ".join(sorted(update_fields)) or "no changes")
    return document


def _is_parsed(document: Document) -> bool:
    return document.run != RunStatus.UNSTART or document.chunk_num > 0 or document.token_num > 0 or document.progress != 0


def _check_new_name(document: Document, changes: DocumentChanges) -> None:
    name = changes.name
    if name is None or name == document.name:
        return
    if name_too_long(name):
        raise ArgumentError(FILE_NAME_TOO_LONG)
    if suffix_of(name) != suffix_of(document.name):
        raise ArgumentError("The extension of file can't be changed")
    if Document.objects.in_dataset(document.dataset_id).filter(name=name).exclude(pk=document.pk).exists():
        raise DataError("Duplicated document name in the same dataset.")


def _check_chunk_method(document: Document, changes: DocumentChanges) -> None:
    if changes.chunk_method is None:
        return
    if changes.chunk_method == "":
        raise DataError("`chunk_method` (empty string) is not valid")
    if document.type == DocumentType.VISUAL or document.suffix in FIXED_CHUNK_METHOD_SUFFIXES:
        raise DataError("Not supported yet!")


# --- Stop and delete ------------------------------------------------------------------------------


def stop_parsing(document_ids: list[str]) -> int:
    """Stop the running documents among ``document_ids``; return how many were stopped.

    Documents that are not running are left unchanged.
    """
    from tasks.services import stop_documents

    documents = list(Document.objects.filter(pk__in=document_ids, run=RunStatus.RUNNING))
    return stop_documents(documents=documents, append_message=True).success_count


def _delete_documents(queryset) -> int:
    """Delete the documents of ``queryset`` with their chunks, tasks and counters, then their files.

    Runs in the caller's transaction when there is one; the files are removed only after the
    outermost transaction commits.
    """
    with transaction.atomic():
        documents = list(queryset.select_for_update().only("id", "dataset_id", "location", "chunk_num", "token_num"))
        if not documents:
            return 0
        ids = [document.id for document in documents]
        keys = [document.location for document in documents if document.location]

        delete_chunks_of_documents(ids)
        delete_tasks_of_documents(ids)
        remove_documents_from_graphs(ids)
        _release_counters(documents)
        per_dataset: dict[str, int] = {}
        for document in documents:
            per_dataset[document.dataset_id] = per_dataset.get(document.dataset_id, 0) + 1
        Document.objects.filter(pk__in=ids).delete()
        for dataset_id, count in per_dataset.items():
            Dataset.objects.filter(pk=dataset_id).update(doc_num=F("doc_num") - count)

        transaction.on_commit(lambda: _remove_files_after_commit(keys, ids))
    logger.info("Deleted documents %s", ids)
    return len(ids)


def _remove_files_after_commit(keys: list[str], document_ids: list[str]) -> None:
    removed = remove_stored_files(keys)
    if removed != len(keys):
        logger.error("Removed %s of %s stored files of deleted documents %s", removed, len(keys), document_ids)


def delete_documents(*, dataset: Dataset, ids: list[str] | None, delete_all: bool) -> int:
    """Delete the listed documents of a dataset, or all of them; nothing when one id is unknown."""
    if not ids and not delete_all:
        raise DataError(f"should either provide doc ids or set delete_all(true), dataset: {dataset.id}. ")
    if ids and delete_all:
        raise DataError(f"should not provide both doc ids and delete_all(true), dataset: {dataset.id}. ")

    queryset = Document.objects.in_dataset(dataset.id)
    if ids:
        with transaction.atomic():
            found = set(queryset.filter(pk__in=ids).select_for_update().values_list("id", flat=True))
            missing = [doc_id for doc_id in ids if doc_id not in found]
            if missing:
                raise DataError(
                    f"These documents do not belong to dataset {dataset.id} or Document not found: {', '.join(missing)}"
                )
            return _delete_documents(queryset.filter(pk__in=ids))
    return _delete_documents(queryset)


def delete_documents_by_ids(document_ids: list[str]) -> int:
    """Delete documents by id in any dataset (the admin console's delete action)."""
    return _delete_documents(Document.objects.filter(pk__in=document_ids))


def delete_documents_of_datasets(dataset_ids: list[str]) -> int:
    """Delete every document of the datasets with their chunks, tasks and files (datasets delete calls this)."""
    return _delete_documents(Document.objects.filter(dataset_id__in=dataset_ids))


# --- Reads used by the datasets app ------------------------------------------------------------------

_PARSING_STATUS_KEYS = {
    RunStatus.UNSTART: "unstart_count",
    RunStatus.SCHEDULE: "unstart_count",
    RunStatus.RUNNING: "running_count",
    RunStatus.CANCEL: "cancel_count",
    RunStatus.DONE: "done_count",
    RunStatus.FAIL: "fail_count",
}


def parsing_status_of_datasets(dataset_ids: list[str]) -> dict[str, dict]:
    """Return per dataset id the number of documents in each parsing state."""
    counts: dict[str, dict] = {}
    rows = Document.objects.filter(dataset_id__in=dataset_ids).values("dataset_id", "run").annotate(total=Count("id"))
    for row in rows:
        key = _PARSING_STATUS_KEYS.get(row["run"], "unstart_count")
        per_dataset = counts.setdefault(row["dataset_id"], {})
        per_dataset[key] = per_dataset.get(key, 0) + row["total"]
    return counts


def document_size_of_dataset(dataset_id: str) -> int:
    """Return the total size in bytes of the dataset's documents."""
    return Document.objects.in_dataset(dataset_id).aggregate(total=Sum("size"))["total"] or 0
