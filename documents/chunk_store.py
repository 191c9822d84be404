"""Writes of chunk rows with their full-text and vector index entries.

Vectors of different sizes share one column, so each size in use gets its own partial HNSW index
over ``embedding::vector(<size>)`` restricted to rows of that size. Searches must use the same
cast and predicate for PostgreSQL to pick the index.
"""

import hashlib
import logging
import weakref
from dataclasses import dataclass, field

import numpy
import psycopg
from django.db import connection, transaction
from django.utils import timezone
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb

from documents.fulltext import SEARCH_CONFIG, analyze
from documents.models import Chunk
from ragflow_site.models import now_ms

logger = logging.getLogger(__name__)

# pgvector's HNSW indexes accept at most 2,000 dimensions for the ``vector`` type.
MAX_INDEXED_DIMENSION = 2000

# Graph degree and build-time candidate list of the HNSW indexes, above pgvector's defaults (16, 64).
# On a million 384-float chunks this graph took 403 to 539 s to build, against about 230 s for the
# default graph (bench/retrieval_latency.py). The scan of a default request with a 200-entry list
# then found 0.955 to 0.965 of the 10 true nearest chunks for NFCorpus questions (two builds),
# against 0.908 before. For vectors drawn like the corpus it found 0.974 to 0.988, against 0.928.
# Migration 0007 rebuilds indexes made before.
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128
HNSW_BUILD_OPTIONS = f"m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}"

_indexed_dimensions: set[int] = set()

# Columns of a parsed chunk's INSERT. The statement also computes ``search_vector``, so each row and
# its GIN and HNSW entries are written once. An UPDATE afterwards would write them a second time.
_INSERT_COLUMNS = (
    "id", "dataset_id", "document_id", "task_id", "position", "content", "content_tokens", "embedding",
    "embedding_dimension", "token_count", "page_numbers", "positions", "important_keywords", "questions",
    "tags", "tag_features", "doc_type", "kind", "available", "create_time", "create_date",
)
_INSERT_SQL = (
    f"INSERT INTO documents_chunk ({', '.join(_INSERT_COLUMNS)}, search_vector) "
    f"VALUES ({', '.join(['%s'] * len(_INSERT_COLUMNS))}, to_tsvector(%s::regconfig, %s))"
)
# psycopg connections with the ``vector`` type registered, so vectors are sent in binary form.
_vector_connections: "weakref.WeakSet" = weakref.WeakSet()


def vector_index_name(dimension: int) -> str:
    return f"documents_chunk_embedding_{dimension}_hnsw"


def create_vector_index_sql(dimension: int) -> str:
    dimension = int(dimension)
    return (
        f"CREATE INDEX IF NOT EXISTS {vector_index_name(dimension)} ON documents_chunk "
        f"USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) WITH ({HNSW_BUILD_OPTIONS}) "
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


def register_vector_types(psycopg_connection) -> None:
    """Register the ``vector`` type on a psycopg connection once (one catalog query per connection)."""
    if psycopg_connection not in _vector_connections:
        register_vector(psycopg_connection)
        _vector_connections.add(psycopg_connection)


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
    created_ms, created_at = now_ms(), timezone.now()
    rows = []
    token_total = 0
    for data in chunks:
        content = clean_text(data.content)
        if not content.strip():
            continue
        vector = None if data.embedding is None else numpy.asarray(data.embedding, dtype=numpy.float32)
        tokens = analyze(content)
        rows.append((
            chunk_id(document_id, data.position, content), dataset_id, document_id, task_id, data.position,
            content, tokens, vector, None if vector is None else len(vector), data.token_count,
            data.page_numbers, Jsonb(data.positions),
            [clean_text(keyword) for keyword in data.important_keywords],
            [clean_text(question) for question in data.questions],
            [], Jsonb({}), data.doc_type, "", True, created_ms, created_at, SEARCH_CONFIG, tokens,
        ))
        token_total += data.token_count
    if rows:
        connection.ensure_connection()
        register_vector_types(connection.connection)
        # Django's cursors bind parameters on the client, as text. A plain psycopg cursor on the
        # same connection and transaction sends them separately, with vectors in binary form.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.executemany(_INSERT_SQL, rows)
    return len(rows), token_total


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
