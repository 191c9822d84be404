"""Starting, stopping and cancelling parse work.

A document's tasks are created and its state changed in one transaction. Jobs are enqueued only
after that transaction commits, so a worker never looks for a row that is not there yet. Redis may
lose its queue at any time: ``tasks.progress.requeue_orphans`` rebuilds it from the task rows.
"""

import logging
import random
from dataclasses import dataclass, field

import django_rq
import redis
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from documents import chunk_store
from documents.choices import RunStatus
from documents.models import Document
from documents.parsers import count_units
from knowledgebases.models import Dataset
from ragflow_site.exceptions import DataError
from ragflow_site.models import new_id
from tasks import cancellation
from tasks.choices import TaskStatus, TaskType
from tasks.models import Task
from tasks.planning import plan_task_ranges

logger = logging.getLogger(__name__)

REDIS_UNAVAILABLE_MESSAGE = "Can't access Redis. Please check the Redis' status."
STOPPED_MESSAGE = "Task stopped by user."
# RAGFlow keeps the last 3,000 lines of a task's log; older lines are dropped.
MAX_LOG_LINES = 3000


def stamp(message: str) -> str:
    """Prefix a progress message with the local time, as ``HH:MM:SS message``."""
    return f"{timezone.localtime().strftime('%H:%M:%S')} {message}"


def appended_log(current: str, *lines: str) -> str:
    """Return the log ``current`` with ``lines`` appended, keeping its last MAX_LOG_LINES lines."""
    return "\n".join([*current.splitlines(), *lines][-MAX_LOG_LINES:])


def task_log_with(task_id: str, *lines: str) -> str:
    """Return the stored log of a task with ``lines`` appended, ready to write back."""
    current = Task.objects.filter(pk=task_id).values_list("progress_msg", flat=True).first() or ""
    return appended_log(current, *lines)


@dataclass
class BatchOutcome:
    """Per-document results of a start or stop request over several documents."""

    success_count: int = 0
    errors: list[str] = field(default_factory=list)


def _check_redis() -> None:
    try:
        cancellation.redis_client().ping()
    except redis.RedisError as error:
        logger.error("Redis is unavailable: %r", error)
        raise DataError(REDIS_UNAVAILABLE_MESSAGE) from None


def _unit_count(document: Document) -> int | None:
    """Count PDF pages or spreadsheet rows so the document can be split; None when unreadable."""
    if document.suffix not in ("pdf", "xlsx", "xls", "csv") or not document.location:
        return None
    try:
        with default_storage.open(document.location, "rb") as handle:
            return count_units(handle.read(), document.name)
    except Exception as error:  # noqa: BLE001 - the parse task reports the real problem
        logger.info("Could not count units of document %s, parsing it as one task: %r", document.id, error)
        return None


def _release_and_clear(document: Document) -> None:
    """Delete a document's chunks and tasks and subtract its counts from the dataset."""
    if document.chunk_num or document.token_num:
        Dataset.objects.filter(pk=document.dataset_id).update(
            chunk_num=F("chunk_num") - document.chunk_num, token_num=F("token_num") - document.token_num
        )
    chunk_store.delete_chunks_of_documents([document.id])
    Task.objects.filter(document_id=document.id).delete()


def queue_documents(*, dataset: Dataset, document_ids: list[str], reject_running: bool) -> BatchOutcome:
    """Start parsing documents of ``dataset`` from scratch.

    ``reject_running`` selects the SDK family's rule (a running document is an error) over the REST
    family's (a running document is restarted).
    """
    _check_redis()
    outcome = BatchOutcome()
    for document_id in document_ids:
        document = Document.objects.filter(pk=document_id, dataset=dataset).first()
        if document is None:
            continue
        unit_count = _unit_count(document)
        started = _queue_one(document_id, dataset, unit_count, reject_running)
        if started:
            outcome.success_count += 1
        else:
            outcome.errors.append("Can't parse document that is currently being processed")
    return outcome


def _queue_one(document_id: str, dataset: Dataset, unit_count: int | None, reject_running: bool) -> bool:
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None:
            return True
        if document.run == RunStatus.RUNNING and reject_running:
            return False
        old_task_ids = list(Task.objects.filter(document_id=document.id).unfinished().values_list("id", flat=True))
        _release_and_clear(document)

        ranges = plan_task_ranges(
            suffix=document.suffix,
            unit_count=unit_count,
            parser_config=document.parser_config or {},
            chunk_method=document.chunk_method,
        )
        tasks = [
            Task(dataset_id=dataset.id, document_id=document.id, from_page=start, to_page=end, rq_job_id=new_id())
            for start, end in ranges
        ]
        Task.objects.bulk_create(tasks)

        document.run = RunStatus.RUNNING
        # A tiny non-zero progress shows a client that the document left the UNSTART state.
        document.progress = random.random() / 100
        document.progress_msg = stamp("Task is queued...")
        document.process_begin_at = timezone.now()
        document.process_duration = 0
        document.chunk_num = 0
        document.token_num = 0
        document.save(
            update_fields=[
                "run", "progress", "progress_msg", "process_begin_at", "process_duration", "chunk_num", "token_num",
            ]
        )
        transaction.on_commit(lambda: _after_queue(old_task_ids, tasks))
    logger.info("Queued document %s as %d tasks", document_id, len(tasks))
    return True


def _after_queue(old_task_ids: list[str], tasks: list[Task]) -> None:
    try:
        cancellation.request_cancel(old_task_ids)
    except redis.RedisError as error:
        logger.warning("Could not flag replaced tasks %s as cancelled: %r", old_task_ids, error)
    for task in tasks:
        enqueue_task(task.id, task.rq_job_id)


def _job_function(task_id: str):
    """Return the job function of the task's type: parsing, or a dataset-level index job."""
    from tasks.jobs import run_parse_task

    task_type = Task.objects.filter(pk=task_id).values_list("task_type", flat=True).first()
    if task_type in (TaskType.GRAPHRAG, TaskType.RAPTOR):
        from tasks.index_jobs import run_index_task

        return run_index_task
    return run_parse_task


def enqueue_task(task_id: str, job_id: str) -> bool:
    """Put a task's job on the queue; False when Redis is unreachable (recovery re-enqueues it)."""
    job_function = _job_function(task_id)

    queue = django_rq.get_queue(settings.RQ_QUEUE_NAME)
    try:
        queue.enqueue(
            job_function, task_id, job_id=job_id, job_timeout=settings.RQ_DEFAULT_JOB_TIMEOUT, failure_ttl=24 * 3600
        )
    except redis.RedisError as error:
        logger.error("Could not enqueue task %s: %r; it stays queued in the database", task_id, error)
        return False
    return True


def stop_documents(*, documents: list[Document], append_message: bool) -> BatchOutcome:
    """Cancel the documents' tasks, delete their chunks and mark them CANCEL.

    A document that is neither running nor has unfinished tasks is reported as an error.
    """
    _check_redis()
    outcome = BatchOutcome()
    for document in documents:
        task_ids = list(Task.objects.filter(document_id=document.id).unfinished().values_list("id", flat=True))
        if document.run not in (RunStatus.RUNNING, RunStatus.CANCEL) and not task_ids:
            outcome.errors.append("Can't stop parsing document that has not started or already completed")
            continue
        cancellation.request_cancel(task_ids)
        with transaction.atomic():
            locked = Document.objects.select_for_update().filter(pk=document.id).first()
            if locked is None:
                continue
            _cancel_tasks_and_chunks(locked)
            locked.run = RunStatus.CANCEL
            locked.progress = 0
            if append_message:
                locked.progress_msg = f"{locked.progress_msg}\n{stamp(STOPPED_MESSAGE)}".lstrip("\n")
            locked.chunk_num = 0
            locked.token_num = 0
            locked.save(update_fields=["run", "progress", "progress_msg", "chunk_num", "token_num"])
        logger.info("Stopped parsing document %s (tasks %s)", document.id, ", ".join(task_ids) or "none")
        outcome.success_count += 1
    return outcome


def _cancel_tasks_and_chunks(document: Document) -> None:
    Task.objects.filter(document_id=document.id).unfinished().update(status=TaskStatus.CANCELLED, progress=-1)
    if document.chunk_num or document.token_num:
        Dataset.objects.filter(pk=document.dataset_id).update(
            chunk_num=F("chunk_num") - document.chunk_num, token_num=F("token_num") - document.token_num
        )
    chunk_store.delete_chunks_of_documents([document.id])


def cancel_task(*, task_id: str, tenant_id: str) -> None:
    """Cancel one task of the caller's tenant and mark its document CANCEL; unknown ids do nothing."""
    task = Task.objects.filter(pk=task_id, dataset__tenant_id=tenant_id).first()
    try:
        cancellation.request_cancel([task_id])
    except redis.RedisError:
        raise DataError("Failed to stop task", code=105) from None
    if task is None:
        return
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=task.document_id).first()
        changed = Task.objects.filter(pk=task.id).unfinished().update(
            status=TaskStatus.CANCELLED, progress=-1, progress_msg=stamp(STOPPED_MESSAGE)
        )
        if document is not None and changed and document.run in (RunStatus.RUNNING, RunStatus.SCHEDULE):
            document.run = RunStatus.CANCEL
            document.save(update_fields=["run"])
    logger.info("Cancelled task %s", task_id)
