"""What the GraphRAG and RAPTOR builders share: the job's context, the dataset's models and its chunks."""

from collections.abc import Callable
from typing import Protocol

from documents.models import Chunk, Document
from knowledgebases.choices import ModelType
from knowledgebases.embeddings import LOCAL_BATCH_SIZE, Embedder, embedder_for
from knowledgebases.model_registry import resolve_model

# Value of ``Chunk.kind`` for chunks parsed from a document, as opposed to derived rows.
PARSED_KIND = ""
RAPTOR_KIND = "raptor"


class IndexBuildError(Exception):
    """The index cannot be built for a reason that retrying will not fix; the task fails with it."""


class IndexContext(Protocol):
    """The running task as a builder sees it; the job in ``tasks.index_jobs`` provides it."""

    task_id: str

    def report(self, progress: float | None = None, message: str | None = None) -> None:
        """Raise the task's progress (0..1, never backwards) and append a line to its trace."""

    def check_cancelled(self) -> None:
        """Raise if the task was cancelled or deleted, or its dataset was deleted."""

    def guard(self) -> None:
        """Inside a transaction: lock the task row and raise unless the task is still running."""


def dataset_embedder(dataset) -> Embedder:
    return embedder_for(resolve_model(dataset.tenant_id, dataset.embedding_model, ModelType.EMBEDDING))


def embed_in_batches(embedder: Embedder, texts: list[str], cancel: Callable[[], None]) -> list[list[float]]:
    """Embed ``texts`` in batches, checking for cancellation between batches."""
    vectors: list[list[float]] = []
    for start in range(0, len(texts), LOCAL_BATCH_SIZE):
        cancel()
        vectors.extend(embedder.embed(texts[start : start + LOCAL_BATCH_SIZE]))
    return vectors


def parsed_chunks(dataset_id: str, document_ids=None):
    """Available parsed chunks of a dataset (or of some of its documents) in reading order."""
    chunks = Chunk.objects.filter(dataset_id=dataset_id, kind=PARSED_KIND, available=True)
    if document_ids is not None:
        chunks = chunks.filter(document_id__in=list(document_ids))
    return chunks.order_by("document_id", "position", "id")


def parsed_documents(dataset_id: str):
    """Enabled documents of the dataset that have parsed chunks: the ones an index is built from."""
    from documents.choices import DocumentStatus

    with_chunks = Chunk.objects.filter(dataset_id=dataset_id, kind=PARSED_KIND, available=True).values("document_id")
    return Document.objects.filter(dataset_id=dataset_id, status=DocumentStatus.ENABLED, pk__in=with_chunks).order_by(
        "create_time", "id"
    )
