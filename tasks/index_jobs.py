"""django-rq entry point of dataset-level index tasks: the knowledge graph (GraphRAG) and RAPTOR.

The job claims its task row as parse jobs do, keeps a heartbeat, reports progress into the row and
stops at the next request or batch once the task is cancelled, deleted, or its dataset deleted.
"""

import logging
import time

from django.utils import timezone

from knowledgebases.chat import ChatError
from knowledgebases.embeddings import EmbeddingError
from knowledgebases.index_support import IndexBuildError
from knowledgebases.models import Dataset
from ragflow_site.exceptions import RagflowError
from tasks.choices import TaskStatus, TaskType
from tasks.jobs import claim_task, record_outcome
from tasks.models import Task
from tasks.pipeline import Heartbeat, TaskCancelled, TaskReporter
from tasks.services import stamp, task_log_with

logger = logging.getLogger(__name__)

PERMANENT_ERRORS = (IndexBuildError, ChatError, EmbeddingError, RagflowError)
# Dataset columns that remember each index type's last task and its finish time.
DATASET_COLUMNS = {
    TaskType.GRAPHRAG: ("graphrag_task_id", "graphrag_task_finish_at"),
    TaskType.RAPTOR: ("raptor_task_id", "raptor_task_finish_at"),
}


class IndexTaskContext(TaskReporter):
    """The running task as the GraphRAG and RAPTOR builders see it."""

    def __init__(self, task: Task):
        super().__init__(task)
        self.task_id = task.id

    def guard(self) -> None:
        """Lock the task row inside the caller's transaction; raise TaskCancelled unless it still runs."""
        status = Task.objects.select_for_update().filter(pk=self.task_id).values_list("status", flat=True).first()
        if status != TaskStatus.RUNNING:
            raise TaskCancelled(f"task {self.task_id} is {status or 'deleted'}")
        self.check_cancelled()


def _build(task: Task, dataset: Dataset, context: IndexTaskContext) -> str:
    if task.task_type == TaskType.GRAPHRAG:
        from knowledgebases.graph import build_graph_index

        return build_graph_index(dataset, context)
    from knowledgebases.raptor import build_raptor_index

    return build_raptor_index(dataset, context)


def _finish(task: Task, message: str, started: float) -> None:
    now = timezone.now()
    log = task_log_with(task.id, stamp(message), stamp(f"Task done ({time.perf_counter() - started:.2f}s)"))
    updated = Task.objects.filter(pk=task.id, status=TaskStatus.RUNNING).update(
        status=TaskStatus.DONE,
        progress=1.0,
        progress_msg=log,
        process_duration=(now - task.begin_at).total_seconds(),
        error="",
    )
    task_column, finish_column = DATASET_COLUMNS[task.task_type]
    if updated:
        Dataset.objects.filter(pk=task.dataset_id, **{task_column: task.id}).update(**{finish_column: now})
    logger.info("Index task %s (%s) of dataset %s finished: %s", task.id, task.task_type, task.dataset_id, message)


def run_index_task(task_id: str) -> None:
    """Build the knowledge graph or the RAPTOR summaries of the task's dataset."""
    task = claim_task(task_id, label="Index task")
    if task is None:
        return

    logger.info("Index task %s (%s, dataset %s, attempt %d) started on %s", task.id, task.task_type, task.dataset_id, task.attempts, task.worker_name)
    started = time.perf_counter()
    context = IndexTaskContext(task)

    def work():
        with Heartbeat(task.id):
            dataset = Dataset.objects.live().filter(pk=task.dataset_id).first()
            if dataset is None:
                raise TaskCancelled(f"dataset {task.dataset_id} of task {task.id} was deleted")
            message = _build(task, dataset, context)
        _finish(task, message, started)

    record_outcome(
        task, work, permanent_errors=PERMANENT_ERRORS,
        timeout_hint="raise RQ_JOB_TIMEOUT for large datasets.", cancel_line="[Canceled]", label="Index task",
    )
