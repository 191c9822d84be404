"""Chunk endpoints of one document: list, add, delete, switch availability, get one and update.

Request checks follow RAGFlow's chunk API: most mistakes are code 102 with a fixed message, and
some conversions (``int(available)``, joining keyword lists) fail with code 100 and the repr of
the Python exception, which clients match on.
"""

import base64
import binascii
import logging

from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from documents import chunk_services
from documents.api import chunk_serializers as shapes
from documents.api.serializers import document_data
from documents.fulltext import query_lexemes
from documents.models import Document
from documents.querysets import visible_dataset
from ragflow_site.api.responses import result
from ragflow_site.api.validation import exception_error, lenient_positive_int, read_lenient_json
from ragflow_site.exceptions import DataError

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 30
# RAGFlow's upper bounds of page_size and of ids in one list filter.
MAX_PAGE_SIZE = 100
MAX_FILTER_IDS = 100


def _document(request, dataset_id: str, document_id: str, *, missing_message: str | None = None) -> Document:
    visible_dataset(dataset_id, request.user, tenant_id_of(request), message=f"You don't own the dataset {dataset_id}.")
    document = Document.objects.select_related("dataset").filter(pk=document_id, dataset_id=dataset_id).first()
    if document is None:
        raise DataError(missing_message or f"you don't own the document {document_id}")
    return document


def _string_list(payload: dict, key: str, *, not_list: str, not_strings: str | None) -> list[str] | None:
    """Return a list of strings, raising RAGFlow's add (``not_strings`` set) or update message."""
    if key not in payload or payload[key] is None:
        return None
    value = payload[key]
    if not isinstance(value, list):
        raise DataError(not_list)
    if not all(isinstance(item, str) for item in value):
        if not_strings is not None:
            raise DataError(not_strings)
        try:
            " ".join(value)
        except TypeError as error:
            raise exception_error(error) from None
    return value


def _tag_features(payload: dict) -> dict | None:
    value = payload.get("tag_feas")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(weight, (int, float)) and not isinstance(weight, bool)
        for key, weight in value.items()
    ):
        raise DataError("`tag_feas` must be an object of tag names to numbers")
    return value


def _image(payload: dict) -> bytes | None:
    if "image_base64" not in payload or payload["image_base64"] is None:
        return None
    value = payload["image_base64"]
    if not isinstance(value, str) or not value.strip():
        raise DataError("`image_base64` must be a non-empty string")
    encoded = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise DataError("Invalid `image_base64`") from None


def _add_fields(payload: dict) -> chunk_services.ChunkFields:
    content = payload.get("content")
    if not isinstance(content, str) or not content.strip():
        raise DataError("`content` is required")
    lists = {}
    for key in ("important_keywords", "questions", "tag_kwd"):
        lists[key] = _string_list(
            payload, key, not_list=f"`{key}` is required to be a list", not_strings=f"`{key}` must be a list of strings"
        )
    return chunk_services.ChunkFields(
        content=content,
        important_keywords=lists["important_keywords"],
        questions=lists["questions"],
        tags=lists["tag_kwd"],
        tag_features=_tag_features(payload),
        image=_image(payload),
    )


def _update_fields(payload: dict) -> chunk_services.ChunkFields:
    content = payload.get("content")
    if content is not None and (not isinstance(content, str) or not content.strip()):
        raise DataError("`content` is required")
    available = None
    if payload.get("available") is not None:
        try:
            available = bool(int(payload["available"]))
        except (TypeError, ValueError) as error:
            raise exception_error(error) from None
    positions = payload.get("positions")
    if positions is not None and not isinstance(positions, list):
        raise DataError("`positions` should be a list")
    return chunk_services.ChunkFields(
        content=content,
        important_keywords=_string_list(
            payload, "important_keywords", not_list="`important_keywords` should be a list", not_strings=None
        ),
        questions=_string_list(payload, "questions", not_list="`questions` should be a list", not_strings=None),
        tags=_string_list(payload, "tag_kwd", not_list="`tag_kwd` should be a list", not_strings="`tag_kwd` must be a list of strings"),
        tag_features=_tag_features(payload),
        positions=positions,
        available=available,
        image=_image(payload),
    )


def _requested_ids(request) -> list[str] | None:
    values = request.query_params.getlist("chunk_ids")
    if not values:
        return None
    ids = [item.strip() for value in values for item in value.split(",") if item.strip()]
    if len(ids) > MAX_FILTER_IDS:
        raise DataError(f"`chunk_ids` accepts at most {MAX_FILTER_IDS} ids, got {len(ids)}")
    return ids


class DocumentChunksView(APIView):
    """``/datasets/{id}/documents/{doc}/chunks``: list (GET), add (POST), delete (DELETE), availability (PATCH)."""

    def get(self, request, dataset_id, document_id):
        document = _document(request, dataset_id, document_id)
        params = request.query_params
        single = params.get("id")
        if single:
            chunk = chunk_services.document_chunks(document.pk).filter(pk=single).first()
            if chunk is None:
                raise DataError(f"Chunk not found: {dataset_id}/{single}")
            item = shapes.listed_chunk_data(chunk, document) | {"tag_feas": chunk.tag_features}
            return result({"total": 1, "chunks": [item], "doc": document_data(document)})

        page = lenient_positive_int(params.get("page"), 1)
        page_size = lenient_positive_int(params.get("page_size"), DEFAULT_PAGE_SIZE)
        if page_size > MAX_PAGE_SIZE:
            raise exception_error(ValueError(f"page_size must be less than or equal to {MAX_PAGE_SIZE}"))
        available = params.get("available")
        keywords = (params.get("keywords") or "").strip()
        listing = chunk_services.list_chunks(
            document,
            page=page,
            page_size=page_size,
            lexemes=query_lexemes(keywords) if keywords else None,
            chunk_ids=_requested_ids(request),
            available=None if available is None else available.lower() == "true",
        )
        chunks = [
            shapes.listed_chunk_data(chunk, document, content=marked)
            for chunk, marked in zip(listing.chunks, listing.highlights or [None] * len(listing.chunks))
        ]
        return result({"total": listing.total, "chunks": chunks, "doc": document_data(document)})

    def post(self, request, dataset_id, document_id):
        document = _document(request, dataset_id, document_id)
        fields = _add_fields(read_lenient_json(request))
        chunk = chunk_services.add_chunk(document=document, fields=fields)
        return result({"chunk": shapes.added_chunk_data(chunk, tags_sent=fields.tags is not None)})

    def delete(self, request, dataset_id, document_id):
        document = _document(request, dataset_id, document_id)
        payload = read_lenient_json(request)
        ids = payload.get("chunk_ids")
        if ids is not None and not isinstance(ids, list):
            raise DataError("`chunk_ids` should be a list")
        ids = [str(item) for item in ids or []]
        delete_all = payload.get("delete_all") is True
        deleted, expected = chunk_services.delete_chunks(document=document, chunk_ids=ids, delete_all=delete_all)
        if not delete_all and deleted != expected:
            raise DataError(f"rm_chunk deleted chunks {deleted}, expect {expected}")
        duplicates = sorted({item for item in ids if ids.count(item) > 1})
        if duplicates and not delete_all:
            return result({"success_count": deleted, "errors": [f"Duplicate chunk ids: {item}" for item in duplicates]})
        return result()

    def patch(self, request, dataset_id, document_id):
        document = _document(request, dataset_id, document_id, missing_message="document not found")
        payload = read_lenient_json(request)
        ids = payload.get("chunk_ids")
        if not ids or not isinstance(ids, list):
            raise DataError("`chunk_ids` is required.")
        if payload.get("available_int") is not None:
            value = payload["available_int"]
        elif payload.get("available") is not None:
            value = payload["available"]
        else:
            raise DataError("`available_int` or `available` is required.")
        try:
            available = bool(int(value))
        except (TypeError, ValueError) as error:
            raise exception_error(error) from None
        chunk_services.set_availability(document=document, chunk_ids=[str(item) for item in ids], available=available)
        return result(True)


class DocumentChunkView(APIView):
    """``/datasets/{id}/documents/{doc}/chunks/{chunk}``: get one (GET), update (PATCH, legacy PUT)."""

    def get(self, request, dataset_id, document_id, chunk_id):
        document = _document(request, dataset_id, document_id)
        chunk = chunk_services.document_chunks(document.pk).filter(pk=chunk_id).first()
        if chunk is None:
            raise DataError("Chunk not found!")
        return result(shapes.stored_chunk_data(chunk, document))

    def patch(self, request, dataset_id, document_id, chunk_id):
        document = _document(request, dataset_id, document_id)
        fields = _update_fields(read_lenient_json(request))
        chunk_services.update_chunk(document=document, chunk_id=chunk_id, fields=fields)
        return result()

    put = patch
