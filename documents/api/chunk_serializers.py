"""JSON shapes of chunks: the list item, the add response and the stored form of ``GET .../chunks/{id}``."""

import time

from documents.chunk_services import image_id
from documents.models import Chunk, Document


def _create_time(chunk: Chunk) -> str:
    """Return RAGFlow's chunk ``create_time``: ``YYYY-MM-DD HH:MM:SS`` in the server's local time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(chunk.create_time / 1000))


def listed_chunk_data(chunk: Chunk, document: Document, *, content: str | None = None) -> dict:
    """Return a chunk as ``GET .../chunks`` lists it; ``content`` replaces the text when highlighted."""
    return {
        "id": chunk.pk,
        "content": chunk.content if content is None else content,
        "document_id": chunk.document_id,
        "docnm_kwd": document.name,
        "important_keywords": chunk.important_keywords,
        "tag_kwd": chunk.tags,
        "questions": chunk.questions,
        "dataset_id": chunk.dataset_id,
        "image_id": image_id(chunk.dataset_id, chunk.id, chunk.doc_type),
        "doc_type_kwd": chunk.doc_type,
        "available": chunk.available,
        "positions": chunk.positions,
    }


def added_chunk_data(chunk: Chunk, *, tags_sent: bool) -> dict:
    """Return the ``chunk`` object of the add response; ``tag_kwd`` only when the request sent it."""
    data = {
        "id": chunk.pk,
        "content": chunk.content,
        "document_id": chunk.document_id,
        "important_keywords": chunk.important_keywords,
        "questions": chunk.questions,
        "dataset_id": chunk.dataset_id,
        "create_timestamp": chunk.create_time / 1000,
        "create_time": _create_time(chunk),
        "doc_type_kwd": chunk.doc_type,
    }
    if tags_sent:
        data["tag_kwd"] = chunk.tags
    if chunk.doc_type == "image":
        data["image_id"] = image_id(chunk.dataset_id, chunk.id, chunk.doc_type)
    return data


def stored_chunk_data(chunk: Chunk, document: Document) -> dict:
    """Return a chunk under RAGFlow's storage field names, without vectors and token fields."""
    pages = chunk.page_numbers or [position[0] for position in chunk.positions if position]
    return {
        "id": chunk.pk,
        "doc_id": chunk.document_id,
        "kb_id": chunk.dataset_id,
        "docnm_kwd": document.name,
        "content_with_weight": chunk.content,
        "important_kwd": chunk.important_keywords,
        "question_kwd": chunk.questions,
        "tag_kwd": chunk.tags,
        "tag_feas": chunk.tag_features,
        "img_id": image_id(chunk.dataset_id, chunk.id, chunk.doc_type),
        "available_int": int(chunk.available),
        "position_int": chunk.positions,
        "page_num_int": pages,
        "top_int": [position[3] for position in chunk.positions if len(position) > 3],
        "create_time": _create_time(chunk),
        "create_timestamp_flt": chunk.create_time / 1000,
        "doc_type_kwd": chunk.doc_type,
    }
