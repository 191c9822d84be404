"""Cancellation flags in Redis, checked by workers between pages and embedding batches.

The task row's status is the record; the flag only lets a busy worker notice a cancel without a
database query per batch.
"""

import logging

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# A flag outlives any job (one hour at most, RQ_JOB_TIMEOUT) by a wide margin, then expires.
FLAG_TTL_SECONDS = 24 * 3600

_clients: dict[str, redis.Redis] = {}


def redis_client() -> redis.Redis:
    """Return this process's client of the project's Redis (one connection pool per URL)."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url)
    return client


def _key(task_id: str) -> str:
    return f"{settings.REDIS_KEY_PREFIX}:cancel:{task_id}"


def request_cancel(task_ids) -> None:
    """Flag the tasks as cancelled; raises redis.RedisError when Redis cannot be reached."""
    task_ids = list(task_ids)
    if not task_ids:
        return
    pipeline = redis_client().pipeline()
    for task_id in task_ids:
        pipeline.set(_key(task_id), "1", ex=FLAG_TTL_SECONDS)
    pipeline.execute()
    logger.info("Cancel requested for tasks %s", ", ".join(task_ids))


def cancel_requested(task_id: str) -> bool:
    try:
        return bool(redis_client().exists(_key(task_id)))
    except redis.RedisError as error:
        # The database status check that follows still catches the cancel.
        logger.warning("Could not read the cancel flag of task %s: %r", task_id, error)
        return False
