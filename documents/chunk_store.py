"""Writes of chunk rows with their full-text and vector index entries.

Vectors of different sizes share one column, so each size in use gets its own partial HNSW index
over ``embedding::vector(<size>)`` restricted to rows of that size. Searches must use the same
cast and predicate for PostgreSQL to pick the index.
"""

import hashlib
import logging
from dataclasses import dataclass, field

from django.db import connection, transaction

from documents.fulltext import SEARCH_CONFIG, analyze
from documents.models import Chunk

logger = logging.getLogger(__name__)

# pgvector's HNSW indexes accept at most 2,000 dimensions for the ``vector`` type.
MAX_INDEXED_DIMENSION = 2000

_indexed_dimensions: set[int] = set()


def vector_index_name(dimension: int) -> str:
    return f"documents_chunk_embedding_{dimension}_hnsw"


def create_vector_index_sql(dimension: int) -> str:
    dimension = int(dimension)
    return (
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(dimension)} ON documents_chunk "
        f"USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) "
        f"WHERE embedding_dimension = {dimension}"
    )


def drop_vector_index_sql(dimension: int) -> str:
    return f"DROP INDEX IF EXISTS {vector_index_name(int(dimension))}"


def ensure_vector_index(dimension: int) -> None:
    """Create the HNSW index for vectors of ``dimension`` floats unless it exists."""
    if dimension in _indexed_dimensions:
        return
    if dimension > MAX_INDEXED_DIMENSION:
        logger.warning("Vectors of %d dimensions are stored without an HNSW index (limit %d)", dimension, MAX_INDEXED_DIMENSION)
        _indexed_dimensions.add(dimension)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [vector_index_name(dimension)])
        if cursor.fetchone() is None:
            logger.info("Creating the HNSW index for %d-dimension vectors", dimension)
            cursor.execute(create_vector_index_sql(dimension))
    _indexed_dimensions.add(dimension)


def clean_text(text: str) -> str:
    """Remove NUL characters, which PDF text layers sometimes contain and PostgreSQL text rejects."""
    return text.replace("\x00", "")


def chunk_id(document_id: str, position: int, content: str) -> str:
    """Return a 16-hex id that is the same for the same text at the same place of a document.

    Re-running a task therefore rewrites the same ids instead of adding new ones.
    """
    digest = hashlib.blake2b(f"{document_id}:{position}:{content}".encode(), digest_size=8)
    return digest.hexdigest()


@dataclass
class ChunkData:
    """A chunk ready to store: text, its vector and where it came from."""

    content: str
    embedding: list[float] | None
    position: int
    token_count: int = 0
    page_numbers: list[int] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    important_keywords: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    doc_type: str = "text"


def replace_task_chunks(*, task_id: str, dataset_id: str, document_id: str, chunks: list[ChunkData]) -> tuple[int, int]:
    """Replace the chunks a task produced earlier with ``chunks``; return (chunk count, token count).

    Must run inside the caller's transaction, after the caller has checked under a row lock that
    the document and task are still wanted, so a retried task never leaves duplicates.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("replace_task_chunks must run inside a transaction")
    Chunk.objects.filter(task_id=task_id).delete()
    rows = []
    for data in chunks:
        content = clean_text(data.content)
        if not content.strip():
            continue
        dimension = len(data.embedding) if data.embedding is not None else None
        rows.append(
            Chunk(
                id=chunk_id(document_id, data.position, content),
                dataset_id=dataset_id,
                document_id=document_id,
                task_id=task_id,
                position=data.position,
                content=content,
                content_tokens=analyze(content),
                embedding=data.embedding,
                embedding_dimension=dimension,
                token_count=data.token_count,
                page_numbers=data.page_numbers,
                positions=data.positions,
                important_keywords=[clean_text(keyword) for keyword in data.important_keywords],
                questions=[clean_text(question) for question in data.questions],
                doc_type=data.doc_type,
            )
        )
    Chunk.objects.bulk_create(rows, batch_size=500)
    refresh_search_vectors(task_id=task_id)
    return len(rows), sum(row.token_count for row in rows)


def refresh_search_vectors(*, task_id: str | None = None, chunk_ids: list[str] | None = None) -> None:
    """Recompute ``search_vector`` from ``content_tokens`` for a task's chunks or the given chunks."""
    with connection.cursor() as cursor:
        if task_id is not None:
            cursor.execute(
                "UPDATE documents_chunk SET search_vector = to_tsvector(%s::regconfig, content_tokens) WHERE task_id = %s",
                [SEARCH_CONFIG, task_id],
            )
        if chunk_ids:
            cursor.execute(
                "UPDATE documents_chunk SET search_vector = to_tsvector(%s::regconfig, content_tokens) WHERE id = ANY(%s)",
                [SEARCH_CONFIG, chunk_ids],
            )


def delete_chunks_of_documents(document_ids: list[str]) -> int:
    deleted, _ = Chunk.objects.filter(document_id__in=document_ids).delete()
    return deleted
