"""django-rq entry points. A job carries only a task id, and the task row decides what runs and whether it runs."""

import logging
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.db.models import F
from django.utils import timezone
from rq import get_current_job
from rq.timeouts import JobTimeoutException

from documents.chunking import ChunkingError
from documents.parsers import DocumentParseError
from knowledgebases.embeddings import EmbeddingError, TransientEmbeddingError
from ragflow_site.exceptions import RagflowError
from ragflow_site.models import new_id
from tasks.choices import TaskStatus
from tasks.models import Task
from tasks.pipeline import Heartbeat, TaskCancelled, run_task
from tasks.services import stamp, task_log_with

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (TransientEmbeddingError, OperationalError, InterfaceError, redis.RedisError, ConnectionError)
PERMANENT_ERRORS = (DocumentParseError, ChunkingError, EmbeddingError, RagflowError)


def claim_task(task_id: str, label: str = "Task") -> Task | None:
    """Move the task from QUEUED to RUNNING if the current RQ job is the one it waits for.

    Returns the claimed row, or None (logged) when the task was cancelled, retried under another
    job or deleted. Outside a worker (a test running the job inline) the job id is empty.
    """
    close_old_connections()
    job = get_current_job()
    job_id = job.id if job else ""
    worker_name = (job.worker_name if job else None) or "inline"
    now = timezone.now()
    claimed = Task.objects.filter(pk=task_id, status=TaskStatus.QUEUED, rq_job_id=job_id).update(
        status=TaskStatus.RUNNING,
        attempts=F("attempts") + 1,
        worker_name=worker_name,
        heartbeat_at=now,
        begin_at=now,
        progress=0,
        error="",
    )
    if not claimed:
        logger.info("%s %s is not waiting for job %s; skipping it", label, task_id, job_id)
        return None
    return Task.objects.get(pk=task_id)


def run_parse_task(task_id: str) -> None:
    """Parse, chunk, embed and index one task of a document."""
    task = claim_task(task_id)
    if task is None:
        return

    logger.info("Task %s (document %s, attempt %d) started on %s", task.id, task.document_id, task.attempts, task.worker_name)

    def work():
        with Heartbeat(task.id):
            run_task(task)

    record_outcome(task, work, permanent_errors=PERMANENT_ERRORS, timeout_hint="split the file or raise RQ_JOB_TIMEOUT.")


def record_outcome(
    task: Task, work, *, permanent_errors: tuple, timeout_hint: str, cancel_line: str = "", label: str = "Task"
) -> None:
    """Run ``work()`` for a claimed task and record how it ended when it did not finish normally.

    A cancel marks the task CANCELLED (appending ``cancel_line`` when given), a transient error
    schedules a retry, and anything else fails the task with a message for the user.
    """
    try:
        work()
    except TaskCancelled as reason:
        logger.info("%s %s stopped: %s", label, task.id, reason)
        changes = {"status": TaskStatus.CANCELLED, "progress": -1}
        if cancel_line:
            changes["progress_msg"] = task_log_with(task.id, stamp(cancel_line))
        Task.objects.filter(pk=task.id, status=TaskStatus.RUNNING).update(**changes)
    except TRANSIENT_ERRORS as error:
        _retry_or_fail(task, error)
    except JobTimeoutException:
        _fail(task, f"Timed out after {settings.RQ_DEFAULT_JOB_TIMEOUT} s; {timeout_hint}")
    except permanent_errors as error:
        _fail(task, getattr(error, "message", None) or str(error))
    except Exception as error:
        logger.exception("%s %s failed with an unexpected error", label, task.id)
        _fail(task, f"Internal error: {error!r}")
    finally:
        close_old_connections()


def _fail(task: Task, reason: str) -> None:
    logger.warning("Task %s of document %s failed: %s", task.id, task.document_id, reason)
    try:
        Task.objects.filter(pk=task.id, status=TaskStatus.RUNNING).update(
            status=TaskStatus.FAILED,
            progress=-1,
            error=reason,
            progress_msg=task_log_with(task.id, stamp(f"[ERROR] {reason}")),
        )
    except DatabaseError:
        # The heartbeat stops with this job, so the aggregator will fail or retry the task later.
        logger.exception("Could not record the failure of task %s", task.id)


def _retry_or_fail(task: Task, error: Exception) -> None:
    if task.attempts >= settings.TASK_MAX_ATTEMPTS:
        _fail(task, f"Gave up after {task.attempts} attempts: {error}")
        return
    job_id = new_id()
    delay = settings.TASK_RETRY_DELAY_SECONDS * task.attempts
    logger.warning("Task %s hit a transient error (%r); retrying in %d s as job %s", task.id, error, delay, job_id)
    # The aggregator enqueues the task once retry_at has passed. The schedule lives in the row, so a
    # restart of Redis or of every worker loses no retry.
    Task.objects.filter(pk=task.id, status=TaskStatus.RUNNING).update(
        status=TaskStatus.QUEUED,
        rq_job_id=job_id,
        heartbeat_at=None,
        retry_at=timezone.now() + timedelta(seconds=delay),
        progress_msg=task_log_with(task.id, stamp(f"Retrying in {delay} s after: {error}")),
    )
