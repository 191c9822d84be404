"""Request models and the JSON shapes of documents in responses."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from documents.choices import RunStatus
from documents.models import Document
from documents.services import DocumentChanges
from knowledgebases.parser_config import ParserConfig
from ragflow_site.api.formatting import rfc1123
from ragflow_site.api.validation import format_validation_error
from ragflow_site.exceptions import DataError

# Chunk methods a client may set on a document (RAGFlow v0.27's update model).
UPDATABLE_CHUNK_METHODS = frozenset(
    "naive manual qa table paper book laws presentation picture one knowledge_graph email tag".split()
)
THUMBNAIL_URL_PREFIX = "/api/v1/documents/images/"
DATA_URI_PREFIX = "data:"


class DeleteDocumentsRequest(BaseModel):
    """Body of ``DELETE /datasets/{id}/documents``; ids are checked for duplicates only."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ids: list[str] | None = None
    delete_all: bool = False

    @field_validator("ids")
    @classmethod
    def reject_duplicates(cls, ids: list[str] | None) -> list[str] | None:
        if ids is None:
            return None
        seen, duplicates = set(), []
        for doc_id in ids:
            if doc_id in seen and doc_id not in duplicates:
                duplicates.append(doc_id)
            seen.add(doc_id)
        if duplicates:
            quoted = ", ".join(f"'{doc_id}'" for doc_id in duplicates)
            raise PydanticCustomError("duplicate_ids", "Duplicate ids: {ids}", {"ids": quoted})
        return ids


MetaValue = str | int | float


class UpdateDocumentRequest(BaseModel):
    """Body of ``PATCH /datasets/{id}/documents/{doc}``; unknown keys are ignored as RAGFlow does."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, Field(max_length=65535)] | None = None
    chunk_method: str | None = None
    pipeline_id: str | None = None
    enabled: Annotated[int, Field(ge=0, le=1)] | None = None
    # Validated strictly, as in dataset requests, even though the rest of this body is lax.
    parser_config: ParserConfig | None = None
    meta_fields: dict | None = None
    chunk_count: int | None = None
    token_count: int | None = None
    progress: Annotated[float, Field(ge=-1, le=1)] | None = None

    @field_validator("chunk_method")
    @classmethod
    def known_chunk_method(cls, value: str | None) -> str | None:
        # An empty string passes here; the update rejects it with its own message afterwards.
        if value and value not in UPDATABLE_CHUNK_METHODS:
            raise PydanticCustomError("chunk_method", "`chunk_method` {value} doesn't exist", {"value": value})
        return value

    @field_validator("meta_fields")
    @classmethod
    def supported_meta_values(cls, value: dict | None) -> dict | None:
        for item in (value or {}).values():
            if isinstance(item, list):
                if not all(isinstance(element, MetaValue) and not isinstance(element, bool) for element in item):
                    raise PydanticCustomError("meta_fields", "The type is not supported in list: {value}", {"value": str(item)})
            elif not isinstance(item, MetaValue) or isinstance(item, bool):
                raise PydanticCustomError("meta_fields", "The type is not supported: {value}", {"value": str(item)})
        return value


def reject_null_name(payload: dict) -> None:
    """RAGFlow checks ``"name": null`` before it looks at the dataset; keep that order."""
    if "name" in payload and payload["name"] is None:
        raise DataError("Field: <name> - Message: <Input should be a valid string> - Value: <None>")


def parse_document_changes(payload: dict) -> DocumentChanges:
    """Validate an update body; errors are DataError (code 102) as in RAGFlow's document update."""
    try:
        request = UpdateDocumentRequest.model_validate(payload)
    except ValidationError as error:
        raise DataError(format_validation_error(error)) from None

    parser_config = None
    if request.parser_config is not None:
        # Only the keys the client sent are merged into the document's configuration.
        parser_config = request.parser_config.model_dump(exclude_unset=True)

    return DocumentChanges(
        name=request.name,
        chunk_method=request.chunk_method,
        pipeline_id=request.pipeline_id,
        parser_config=parser_config,
        meta_fields=request.meta_fields,
        enabled=request.enabled,
    )


def uploaded_document_data(document: Document) -> dict:
    """Return the upload response item: the fields written at upload, with ``run`` as a name."""
    return {
        "id": document.id,
        "dataset_id": document.dataset_id,
        "chunk_method": document.chunk_method,
        "pipeline_id": document.pipeline_id,
        "parser_config": document.parser_config,
        "created_by": document.created_by_id,
        "type": document.type,
        "name": document.name,
        "source_type": document.source_type,
        "suffix": document.suffix,
        "location": document.location,
        "size": document.size,
        "thumbnail": document.thumbnail,
        "content_hash": document.content_hash,
        "run": RunStatus.UNSTART.name,
    }


def raw_uploaded_document_data(document: Document) -> dict:
    """Return the upload response item with RAGFlow's column names (``return_raw_files=true``)."""
    data = uploaded_document_data(document)
    data["kb_id"] = data.pop("dataset_id")
    data["parser_id"] = data.pop("chunk_method")
    data["run"] = document.run
    return data


def document_data(document: Document) -> dict:
    """Return a document as the update response and the list show it."""
    return {
        "id": document.id,
        "dataset_id": document.dataset_id,
        "name": document.name,
        "location": document.location,
        "size": document.size,
        "type": document.type,
        "suffix": document.suffix,
        "chunk_method": document.chunk_method,
        "pipeline_id": document.pipeline_id,
        "parser_config": document.parser_config,
        "source_type": document.source_type,
        "created_by": document.created_by_id,
        "thumbnail": document.thumbnail,
        "chunk_count": document.chunk_num,
        "token_count": document.token_num,
        "progress": document.progress,
        "progress_msg": document.progress_msg,
        "process_begin_at": rfc1123(document.process_begin_at),
        "process_duration": document.process_duration,
        "run": RunStatus.api_name(document.run),
        "status": document.status,
        "content_hash": document.content_hash,
        "meta_fields": document.meta_fields or {},
        "create_time": document.create_time,
        "create_date": rfc1123(document.create_date),
        "update_time": document.update_time,
        "update_date": rfc1123(document.update_date),
    }


def listed_document_data(document: Document) -> dict:
    """Return a document as the list shows it, with the creator's nickname and a thumbnail URL."""
    data = document_data(document)
    data["pipeline_name"] = None
    data["nickname"] = document.created_by.nickname
    thumbnail = data["thumbnail"]
    if thumbnail and not thumbnail.startswith(DATA_URI_PREFIX):
        data["thumbnail"] = f"{THUMBNAIL_URL_PREFIX}{document.dataset_id}-{thumbnail}"
    if data["source_type"]:
        data["source_type"] = data["source_type"].split("/", 1)[0]
    return data
