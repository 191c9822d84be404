"""Use cases of dataset-level indexes: start, trace and delete a knowledge graph or RAPTOR summaries."""

import logging
from dataclasses import dataclass

import redis
from django.db import transaction

from documents.choices import DocumentStatus
from documents.models import Chunk, Document
from knowledgebases.index_support import RAPTOR_KIND, parsed_documents
from knowledgebases.models import Dataset
from ragflow_site.api.formatting import rfc1123
from ragflow_site.exceptions import ArgumentError, AuthorizationError, DataError
from ragflow_site.models import new_id
from tasks import cancellation
from tasks.choices import TaskStatus, TaskType
from tasks.models import WHOLE_DOCUMENT_END, Task
from tasks.services import REDIS_UNAVAILABLE_MESSAGE, enqueue_task, stamp

logger = logging.getLogger(__name__)

# Index types RAGFlow v0.27 accepts, in the order its error message lists them.
RAGFLOW_INDEX_TYPES = (
    "graph", "raptor", "mindmap", "wiki", "skill", "structure_graph", "structure_mindmap", "timeline",
    "session_graph", "session_essence", "structure",
)
# RAGFlow's placeholder ``doc_id`` of dataset-level tasks.
DATASET_TASK_DOC_ID = "graph_raptor_x"
NO_AUTHORIZATION = "no authorization"


@dataclass(frozen=True)
class IndexKind:
    """An index type this server builds: its task type, dataset columns and display name."""

    task_type: str
    task_column: str
    display_name: str


INDEX_KINDS = {
    "graph": IndexKind(TaskType.GRAPHRAG, "graphrag_task_id", "Graph"),
    "raptor": IndexKind(TaskType.RAPTOR, "raptor_task_id", "RAPTOR"),
}


def index_kind(index_type: str | None, *, code: int = 102) -> IndexKind:
    """Return the kind of a ``type`` query value (case-insensitive), or raise RAGFlow's error."""
    normalised = (index_type or "").strip().lower()
    if normalised not in RAGFLOW_INDEX_TYPES:
        if code == 101:
            raise ArgumentError(f"Invalid index type '{index_type}'")
        raise DataError(f"Invalid index type '{index_type}'. Must be one of {list(RAGFLOW_INDEX_TYPES)}")
    kind = INDEX_KINDS.get(normalised)
    if kind is None:
        raise DataError(
            f"Index type '{normalised}' is not supported by this server; use one of {sorted(INDEX_KINDS)}.",
            code=code,
        )
    return kind


def accessible_dataset(*, user, tenant_id: str, dataset_id: str, code: int = 102) -> Dataset:
    """Return a live dataset the caller may use, or raise ``no authorization`` with ``code``."""
    dataset = Dataset.objects.visible_to(user, tenant_id).filter(pk=dataset_id).first()
    if dataset is None:
        if code == 109:
            raise AuthorizationError(NO_AUTHORIZATION, include_data=False)
        raise DataError(NO_AUTHORIZATION)
    return dataset


def start_index(*, dataset: Dataset, kind: IndexKind) -> Task:
    """Create the dataset's index task and enqueue its job after commit; raise when one is running."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        previous_id = getattr(locked, kind.task_column)
        previous = Task.objects.filter(pk=previous_id).first() if previous_id else None
        if previous is not None and previous.status in TaskStatus.unfinished():
            raise DataError(
                f"Task {previous.id} in progress with status {previous.progress:g}. "
                f"A {kind.display_name} Task is already running."
            )
        if not Document.objects.filter(dataset_id=dataset.pk, status=DocumentStatus.ENABLED).exists():
            raise DataError(f"No documents in Dataset {dataset.pk}")
        if not parsed_documents(dataset.pk).exists():
            raise DataError(f"No parsed documents in Dataset {dataset.pk}; parse documents before building the index.")

        task = Task.objects.create(
            dataset_id=dataset.pk,
            document=None,
            task_type=kind.task_type,
            from_page=WHOLE_DOCUMENT_END,
            to_page=WHOLE_DOCUMENT_END,
            progress_msg=stamp(f"created task {kind.task_type}"),
            rq_job_id=new_id(),
        )
        Dataset.objects.filter(pk=dataset.pk).update(**{kind.task_column: task.id})
        transaction.on_commit(lambda: enqueue_task(task.id, task.rq_job_id))
    logger.info("Created %s task %s for dataset %s", kind.task_type, task.id, dataset.pk)
    return task


def current_task(*, dataset: Dataset, kind: IndexKind) -> Task | None:
    task_id = getattr(dataset, kind.task_column)
    return Task.objects.filter(pk=task_id, dataset_id=dataset.pk).first() if task_id else None


def task_data(task: Task) -> dict:
    """Return RAGFlow's task dict of a dataset-level task."""
    chunk_ids = ""
    if task.task_type == TaskType.RAPTOR:
        chunk_ids = " ".join(Chunk.objects.filter(task_id=task.id, kind=RAPTOR_KIND).order_by("position").values_list("id", flat=True))
    return {
        "id": task.id,
        "doc_id": task.document_id or DATASET_TASK_DOC_ID,
        "from_page": task.from_page,
        "to_page": task.to_page,
        "task_type": task.task_type,
        "priority": task.priority,
        "begin_at": rfc1123(task.begin_at),
        "process_duration": task.process_duration,
        "progress": task.progress,
        "progress_msg": task.progress_msg,
        "retry_count": task.attempts,
        "digest": "",
        "chunk_ids": chunk_ids,
        "create_time": task.create_time,
        "create_date": rfc1123(task.create_date),
        "update_time": task.update_time,
        "update_date": rfc1123(task.update_date),
    }


def delete_index(*, dataset: Dataset, kind: IndexKind, wipe: bool = True) -> None:
    """Cancel the running task of the index, delete its row and, when ``wipe``, the index itself."""
    task_id = getattr(dataset, kind.task_column)
    if task_id:
        try:
            cancellation.request_cancel([task_id])
        except redis.RedisError as error:
            logger.error("Could not flag index task %s as cancelled: %r", task_id, error)
            raise DataError(REDIS_UNAVAILABLE_MESSAGE, code=105) from None

    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).values_list("pk", flat=True).first()
        if task_id:
            Task.objects.filter(pk=task_id, dataset_id=dataset.pk).delete()
        if wipe:
            if kind.task_type == TaskType.GRAPHRAG:
                from knowledgebases.graph import delete_graph

                delete_graph(dataset.pk)
            else:
                from knowledgebases.raptor import delete_raptor_chunks

                delete_raptor_chunks(dataset.pk)
        Dataset.objects.filter(pk=dataset.pk).update(**{kind.task_column: None})
    logger.info("Deleted the %s index task %s of dataset %s (wipe=%s)", kind.task_type, task_id, dataset.pk, wipe)


def graph_data(dataset: Dataset) -> dict:
    """Return ``{"graph", "mind_map"}`` of a dataset; both ``{}`` when it has no graph."""
    from knowledgebases.graph_export import mind_map, node_link_graph

    return {"graph": node_link_graph(dataset.pk), "mind_map": mind_map(dataset.pk, dataset.name)}
