"""Chunk management within one document: add, update, delete and switch availability.

A write that changes text embeds it before the transaction opens, so no row lock waits on the
embedding model. Inside the transaction the document row is locked and the chunk is written with
its full-text and vector entries. Then the document's and the dataset's chunk and token counters
are recounted from the rows, so after every request the counters equal the stored chunks.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from documents import chunk_store
from documents.fulltext import analyze
from documents.models import Chunk, Document
from knowledgebases.models import Dataset
from ragflow_site.exceptions import DataError, RagflowError, RetCode

logger = logging.getLogger(__name__)

# A manually added chunk's vector mixes the document name into the text's vector with these
# weights, as RAGFlow does, so the name nudges retrieval without outweighing the text.
TITLE_VECTOR_WEIGHT = 0.1
CONTENT_VECTOR_WEIGHT = 0.9
# Rows of this kind are knowledge-graph records stored beside text chunks, so chunk routes skip them.
GRAPH_KIND = "graph"


class ChunkEmbeddingError(RagflowError):
    """The dataset's embedding model could not embed the chunk text."""

    code = RetCode.EXCEPTION_ERROR
    include_data = True


@dataclass
class ChunkFields:
    """Validated chunk fields of an add or update request; None means the key was not sent."""

    content: str | None = None
    important_keywords: list[str] | None = None
    questions: list[str] | None = None
    tags: list[str] | None = None
    tag_features: dict | None = None
    positions: list | None = None
    available: bool | None = None
    image: bytes | None = None


def manual_chunk_id(document_id: str, content: str) -> str:
    """Return the 16-hex id of a chunk added through the API: equal text in a document, equal id."""
    return hashlib.blake2b(f"{content}{document_id}".encode(), digest_size=8).hexdigest()


def image_key(dataset_id: str, chunk_id: str) -> str:
    """Storage key of a chunk's image."""
    return f"{dataset_id}/chunk-images/{chunk_id}"


def image_id(dataset_id: str, chunk_id: str, doc_type: str) -> str:
    """Return RAGFlow's ``img_id`` (``<dataset id>-<chunk id>``) of a chunk with an image, else ``""``."""
    return f"{dataset_id}-{chunk_id}" if doc_type == "image" else ""


def document_chunks(document_id: str):
    """Chunks of a document that the chunk routes show: every row except knowledge-graph records."""
    return Chunk.objects.filter(document_id=document_id).exclude(kind=GRAPH_KIND)


def _search_text(content: str, keywords: list[str], questions: list[str]) -> str:
    # Keywords and questions are searchable as RAGFlow's important_tks and question_tks are.
    return "\n".join([content, " ".join(keywords), " ".join(questions)]).strip()


def _text_fields(content: str, keywords: list[str], questions: list[str], vector: list[float]) -> dict:
    """Return the chunk columns that follow from its text: search tokens, vector and token count."""
    return {
        "content": content,
        "content_tokens": analyze(_search_text(content, keywords, questions)),
        "embedding": vector,
        "embedding_dimension": len(vector),
        "token_count": _count_tokens(content),
        "important_keywords": keywords,
        "questions": questions,
    }


def _embed(dataset: Dataset, document: Document, content: str, questions: list[str]) -> list[float]:
    from knowledgebases.embeddings import EmbeddingError, embedder_for
    from knowledgebases.model_registry import resolve_model

    tenant_model = resolve_model(dataset.tenant_id, dataset.embedding_model, "embedding")
    body = "\n".join(questions) if questions else content
    try:
        title_vector, body_vector = embedder_for(tenant_model).embed([document.name, body])
    except EmbeddingError as error:
        logger.error("Embedding a chunk of document %s with model %s failed: %s", document.id, tenant_model.pk, error)
        raise ChunkEmbeddingError(f"Embedding the chunk failed: {error}") from None
    return [TITLE_VECTOR_WEIGHT * a + CONTENT_VECTOR_WEIGHT * b for a, b in zip(title_vector, body_vector)]


def _count_tokens(text: str) -> int:
    from documents.chunking import default_token_counter

    return default_token_counter().count(text)


def _store_image(dataset_id: str, chunk_id: str, image: bytes) -> None:
    key = image_key(dataset_id, chunk_id)
    try:
        if default_storage.exists(key):
            default_storage.delete(key)
        default_storage.save(key, ContentFile(image))
    except OSError as error:
        logger.error("Storing the image of chunk %s in dataset %s failed: %r", chunk_id, dataset_id, error)
        raise DataError("Failed to store chunk image") from None


def _delete_images_after_commit(dataset_id: str, chunk_ids: list[str]) -> None:
    def remove():
        for chunk_id in chunk_ids:
            try:
                default_storage.delete(image_key(dataset_id, chunk_id))
            except OSError as error:
                logger.warning("Could not delete the image of chunk %s in dataset %s: %r", chunk_id, dataset_id, error)

    if chunk_ids:
        transaction.on_commit(remove)


def _lock_document(document: Document) -> Document:
    locked = Document.objects.select_for_update().filter(pk=document.pk).first()
    if locked is None:
        raise DataError(f"you don't own the document {document.pk}")
    return locked


def _recount(document: Document) -> None:
    """Set the document's and its dataset's counters from the chunk rows; call with the document locked."""
    from tasks.progress import refresh_dataset_counters

    totals = Chunk.objects.filter(document_id=document.pk).aggregate(
        chunks=Count("id"), tokens=Coalesce(Sum("token_count"), 0)
    )
    Document.objects.filter(pk=document.pk).update(chunk_num=totals["chunks"], token_num=totals["tokens"])
    document.chunk_num, document.token_num = totals["chunks"], totals["tokens"]
    # Locking the dataset row first makes the recount read every counter committed before it.
    Dataset.objects.select_for_update().filter(pk=document.dataset_id).first()
    refresh_dataset_counters([document.dataset_id])


def add_chunk(*, document: Document, fields: ChunkFields) -> Chunk:
    """Embed and store a chunk; adding the same text to the same document again replaces that chunk."""
    content = fields.content or ""
    if not content.strip():
        raise DataError("`content` is required")
    keywords = fields.important_keywords or []
    questions = [question.strip() for question in fields.questions or [] if question.strip()]
    tags = fields.tags or []
    dataset = document.dataset
    vector = _embed(dataset, document, content, questions)
    chunk_store.ensure_vector_index(len(vector))
    new_id = manual_chunk_id(document.pk, content)
    if fields.image is not None:
        _store_image(dataset.pk, new_id, fields.image)

    with transaction.atomic():
        locked = _lock_document(document)
        chunk, created = Chunk.objects.update_or_create(
            pk=new_id,
            defaults={
                "dataset_id": dataset.pk,
                "document_id": document.pk,
                **_text_fields(content, keywords, questions, vector),
                "tags": tags,
                "tag_features": fields.tag_features or {},
                "doc_type": "image" if fields.image is not None else "text",
                "available": True,
            },
        )
        chunk_store.refresh_search_vectors(chunk_ids=[chunk.pk])
        _recount(locked)
    logger.info("%s chunk %s of document %s", "Added" if created else "Replaced", chunk.pk, document.pk)
    return chunk


def check_qa_content(document: Document, content: str) -> None:
    """Reject Q&A chunk text that is not one question and one answer split by a tab or a newline."""
    if document.chunk_method != "qa":
        return
    parts = [part for part in content.replace("\t", "\n").split("\n", 1) if part.strip()]
    if len(parts) != 2:
        raise DataError("Q&A must be separated by TAB/ENTER key.")


def update_chunk(*, document: Document, chunk_id: str, fields: ChunkFields) -> Chunk:
    """Change a chunk's text, keywords, questions, tags, positions or availability, then re-embed it."""
    chunk = document_chunks(document.pk).filter(pk=chunk_id).first()
    if chunk is None:
        raise DataError(f"Can't find this chunk {chunk_id}")
    if fields.content is not None:
        if not fields.content.strip():
            raise DataError("`content` is required")
        check_qa_content(document, fields.content)
    content = fields.content if fields.content is not None else chunk.content
    keywords = fields.important_keywords if fields.important_keywords is not None else chunk.important_keywords
    questions = chunk.questions
    if fields.questions is not None:
        questions = [question.strip() for question in fields.questions if question.strip()]
    dataset = document.dataset
    vector = _embed(dataset, document, content, questions)
    chunk_store.ensure_vector_index(len(vector))
    if fields.image is not None:
        _store_image(dataset.pk, chunk.pk, fields.image)

    changes = _text_fields(content, keywords, questions, vector)
    if fields.tags is not None:
        changes["tags"] = fields.tags
    if fields.tag_features is not None:
        changes["tag_features"] = fields.tag_features
    if fields.positions is not None:
        changes["positions"] = fields.positions
    if fields.available is not None:
        changes["available"] = fields.available
    if fields.image is not None:
        changes["doc_type"] = "image"

    with transaction.atomic():
        locked = _lock_document(document)
        if not document_chunks(document.pk).filter(pk=chunk.pk).update(**changes):
            raise DataError(f"Can't find this chunk {chunk_id}")
        chunk_store.refresh_search_vectors(chunk_ids=[chunk.pk])
        _recount(locked)
    logger.info("Updated chunk %s of document %s", chunk.pk, document.pk)
    return Chunk.objects.get(pk=chunk.pk)


def delete_chunks(*, document: Document, chunk_ids: list[str] | None, delete_all: bool) -> tuple[int, int]:
    """Delete the given chunks of a document, or all of them; return (deleted, unique ids requested)."""
    if delete_all:
        chunk_ids = None
    elif not chunk_ids:
        return 0, 0
    else:
        chunk_ids = list(dict.fromkeys(chunk_ids))

    with transaction.atomic():
        locked = _lock_document(document)
        rows = document_chunks(document.pk)
        if chunk_ids is not None:
            rows = rows.filter(pk__in=chunk_ids)
        doomed = list(rows.values_list("id", "doc_type"))
        deleted, _ = Chunk.objects.filter(pk__in=[pk for pk, _ in doomed]).delete()
        _recount(locked)
        _delete_images_after_commit(document.dataset_id, [pk for pk, doc_type in doomed if doc_type == "image"])
    logger.info("Deleted %d chunks of document %s", deleted, document.pk)
    return deleted, len(chunk_ids) if chunk_ids is not None else deleted


def set_availability(*, document: Document, chunk_ids: list[str], available: bool) -> int:
    """Include (True) or exclude (False) chunks of a document in retrieval; return how many matched."""
    updated = document_chunks(document.pk).filter(pk__in=chunk_ids).update(available=available)
    logger.info("Set %d chunks of document %s to available=%s", updated, document.pk, available)
    return updated


# --- Reads -----------------------------------------------------------------------------------------

# Share of a keyword query's IDF weight a chunk must contain to be listed, as RAGFlow's 30%
# minimum_should_match for chunk searches.
KEYWORD_MIN_MATCH = 0.3


@dataclass
class ChunkListing:
    total: int
    chunks: list[Chunk]
    # HTML-escaped content with matched words in <em>, when the listing searched keywords.
    highlights: list[str] | None = None


def list_chunks(
    document: Document,
    *,
    page: int,
    page_size: int,
    lexemes: list[str] | None = None,
    chunk_ids: list[str] | None = None,
    available: bool | None = None,
) -> ChunkListing:
    """Return one page of a document's chunks in reading order, or by relevance to ``lexemes``.

    Reading order is parsed chunks by position, then chunks added through the API, newest first;
    the id breaks ties, so pages never repeat or skip a chunk.
    """
    from django.db.models import Q
    from django.db.models.expressions import RawSQL

    from documents.fulltext import highlight, inverse_document_frequency, lexeme_frequencies, term_score_sql

    rows = document_chunks(document.pk)
    if chunk_ids is not None:
        rows = rows.filter(pk__in=chunk_ids)
    if available is not None:
        rows = rows.filter(available=available)
    start = (page - 1) * page_size
    if not lexemes:
        ordered = rows.annotate(added=Q(task__isnull=True)).order_by("added", "position", "-create_time", "id")
        return ChunkListing(total=rows.count(), chunks=list(ordered[start : start + page_size]))

    fractions = lexeme_frequencies(lexemes)
    weights = [inverse_document_frequency(fractions[lexeme]) for lexeme in lexemes]
    score_sql, score_params = term_score_sql(lexemes, weights, column="documents_chunk.search_vector")
    share = RawSQL(*term_score_sql(lexemes, weights, column="documents_chunk.search_vector", count_repeats=False))
    ranked = rows.annotate(score=RawSQL(score_sql, score_params), share=share).filter(share__gte=KEYWORD_MIN_MATCH)
    page_rows = list(ranked.order_by("-score", "id")[start : start + page_size])
    return ChunkListing(
        total=ranked.count(),
        chunks=page_rows,
        highlights=highlight([chunk.content for chunk in page_rows], lexemes),
    )
