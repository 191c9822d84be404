"""Folding of worker progress into documents and datasets, run by ``aggregate_progress``.

Each tick reads only documents whose run is RUNNING, so its cost follows the running work. Final
writes are conditional on the document still being RUNNING, so a concurrent cancel always wins.
"""

import logging
import time
from datetime import timedelta

import django_rq
import redis
from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rq.job import Job

from documents.choices import RunStatus
from documents.models import Chunk, Document
from knowledgebases.models import Dataset
from ragflow_site.models import new_id
from tasks.choices import TaskStatus
from tasks.models import Task
from tasks.services import appended_log, enqueue_task, stamp

logger = logging.getLogger(__name__)

# Queued tasks are checked against Redis this often; the check costs one round trip per task.
ORPHAN_CHECK_SECONDS = 30
# A task younger than this may still be waiting for its post-commit enqueue.
ORPHAN_MIN_AGE_SECONDS = 10
# Shown progress stays below 1 until every task is done, as RAGFlow's clients expect.
MAX_RUNNING_PROGRESS = 0.99
FINISHED = (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED)

_last_orphan_check = 0.0


def aggregate_once() -> int:
    """Run one tick: recover lost tasks, then fold task state into running documents.

    Returns how many documents changed.
    """
    global _last_orphan_check
    recover_lost_tasks()
    enqueue_due_retries()
    if time.monotonic() - _last_orphan_check >= ORPHAN_CHECK_SECONDS:
        _last_orphan_check = time.monotonic()
        requeue_orphans()

    changed_datasets = set()
    changed = 0
    for document in Document.objects.filter(run=RunStatus.RUNNING).only(
        "id", "dataset_id", "progress", "progress_msg", "process_begin_at", "run"
    ):
        if _sync_document(document):
            changed += 1
            changed_datasets.add(document.dataset_id)
    if changed_datasets:
        refresh_dataset_counters(changed_datasets)
    return changed


def _queue_ahead_message(document_id: str, tasks: list[Task]) -> str:
    first_created = min(task.create_time for task in tasks)
    ahead = Task.objects.filter(status=TaskStatus.QUEUED, create_time__lt=first_created).exclude(
        document_id=document_id
    ).count()
    return stamp(f"{ahead} tasks are ahead in the queue...")


def _sync_document(document: Document) -> bool:
    tasks = list(Task.objects.filter(document_id=document.id).order_by("from_page", "create_time"))
    now = timezone.now()
    begin = document.process_begin_at or now
    changes = {
        "process_duration": (now - begin).total_seconds(),
        "update_time": int(time.time() * 1000),
        "update_date": now,
    }

    if not tasks:
        changes.update(run=RunStatus.FAIL, progress=-1, progress_msg=stamp("[ERROR] No parse task exists; parse the document again."))
        logger.warning("Document %s was RUNNING with no tasks; marking it FAIL", document.id)
        return _write(document, changes)

    messages = "\n".join(task.progress_msg for task in tasks if task.progress_msg)
    finished = all(task.status in FINISHED for task in tasks)
    failed = [task for task in tasks if task.status == TaskStatus.FAILED]

    if finished and failed:
        changes.update(run=RunStatus.FAIL, progress=-1, progress_msg=messages)
    elif finished and all(task.status == TaskStatus.DONE for task in tasks):
        totals = Chunk.objects.filter(document_id=document.id).aggregate(
            chunks=Count("id"), tokens=Coalesce(Sum("token_count"), 0)
        )
        changes.update(
            run=RunStatus.DONE, progress=1.0, progress_msg=messages,
            chunk_num=totals["chunks"], token_num=totals["tokens"],
        )
    elif finished:
        # Some task was cancelled on its own (tasks/<id>/cancel) and none failed.
        changes.update(run=RunStatus.CANCEL, progress=0, progress_msg=messages)
    else:
        mean = sum(max(task.progress, 0) for task in tasks) / len(tasks)
        progress = min(MAX_RUNNING_PROGRESS, max(document.progress, mean))
        if not any(task.status == TaskStatus.RUNNING or task.progress > 0 for task in tasks):
            messages = "\n".join(filter(None, [document.progress_msg.splitlines()[0] if document.progress_msg else "",
                                               _queue_ahead_message(document.id, tasks)]))
        changes.update(progress=progress, progress_msg=messages)
    return _write(document, changes)


def _write(document: Document, changes: dict) -> bool:
    updated = Document.objects.filter(pk=document.id, run=RunStatus.RUNNING).update(**changes)
    if updated and changes.get("run") in (RunStatus.DONE, RunStatus.FAIL, RunStatus.CANCEL):
        logger.info("Document %s finished parsing: run %s", document.id, RunStatus(changes["run"]).name)
    return bool(updated)


def refresh_dataset_counters(dataset_ids) -> None:
    """Recompute the datasets' document, chunk and token counters from their document rows."""
    documents = Document.objects.filter(dataset_id=OuterRef("pk")).order_by().values("dataset_id")
    Dataset.objects.filter(pk__in=list(dataset_ids)).update(
        doc_num=Coalesce(Subquery(documents.annotate(n=Count("id")).values("n"), output_field=IntegerField()), Value(0)),
        chunk_num=Coalesce(Subquery(documents.annotate(n=Sum("chunk_num")).values("n"), output_field=IntegerField()), Value(0)),
        token_num=Coalesce(Subquery(documents.annotate(n=Sum("token_num")).values("n"), output_field=IntegerField()), Value(0)),
    )


def recover_lost_tasks() -> int:
    """Retry or fail running tasks whose heartbeat stopped because their worker died."""
    cutoff = timezone.now() - timedelta(seconds=settings.TASK_HEARTBEAT_TIMEOUT_SECONDS)
    recovered = 0
    for task in Task.objects.filter(status=TaskStatus.RUNNING, heartbeat_at__lt=cutoff):
        lost = Task.objects.filter(pk=task.pk, status=TaskStatus.RUNNING, heartbeat_at=task.heartbeat_at)
        note = f"Worker {task.worker_name or '?'} lost (no heartbeat for {settings.TASK_HEARTBEAT_TIMEOUT_SECONDS} s)"
        if task.attempts < settings.TASK_MAX_ATTEMPTS:
            job_id = new_id()
            if lost.update(status=TaskStatus.QUEUED, rq_job_id=job_id, heartbeat_at=None,
                           progress_msg=appended_log(task.progress_msg, stamp(note + "; retrying."))):
                logger.warning("%s; task %s re-enqueued as job %s", note, task.id, job_id)
                enqueue_task(task.id, job_id)
                recovered += 1
        elif lost.update(status=TaskStatus.FAILED, progress=-1, error="worker lost",
                         progress_msg=appended_log(task.progress_msg, stamp(f"[ERROR] {note}; giving up: worker lost."))):
            logger.error("%s; task %s failed after %d attempts", note, task.id, task.attempts)
            recovered += 1
    return recovered


def enqueue_due_retries() -> int:
    """Enqueue the queued tasks whose retry delay has passed; return how many."""
    enqueued = 0
    for task_id, job_id, retry_at in Task.objects.filter(
        status=TaskStatus.QUEUED, retry_at__lte=timezone.now()
    ).values_list("id", "rq_job_id", "retry_at"):
        # Clearing retry_at first claims the retry, so two aggregator ticks never enqueue it twice.
        if Task.objects.filter(pk=task_id, status=TaskStatus.QUEUED, retry_at=retry_at).update(retry_at=None):
            if enqueue_task(task_id, job_id):
                logger.info("Enqueued retry of task %s as job %s", task_id, job_id)
                enqueued += 1
    return enqueued


def requeue_orphans(min_age_seconds: float = ORPHAN_MIN_AGE_SECONDS) -> int:
    """Enqueue again the queued tasks whose job is missing from Redis (lost data, failed enqueue).

    Tasks waiting out a retry delay have no job yet on purpose and are left alone.
    """
    cutoff = int((time.time() - min_age_seconds) * 1000)
    tasks = list(
        Task.objects.filter(status=TaskStatus.QUEUED, create_time__lt=cutoff, retry_at__isnull=True).values_list(
            "id", "rq_job_id"
        )
    )
    if not tasks:
        return 0
    try:
        connection = django_rq.get_connection(settings.RQ_QUEUE_NAME)
        pipeline = connection.pipeline()
        for _, job_id in tasks:
            pipeline.exists(Job.key_for(job_id))
        present = pipeline.execute()
    except redis.RedisError as error:
        logger.warning("Could not check queued tasks against Redis: %r", error)
        return 0
    requeued = 0
    for (task_id, job_id), exists in zip(tasks, present):
        if not exists and enqueue_task(task_id, job_id):
            logger.warning("Re-enqueued task %s whose job %s was missing from Redis", task_id, job_id)
            requeued += 1
    return requeued
