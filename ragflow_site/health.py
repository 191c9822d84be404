"""Checks of the backing services, for the health endpoints and the start-up banner."""

import logging
import time
import uuid

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

logger = logging.getLogger(__name__)

# A health probe must answer fast enough for a load balancer; two seconds per service is generous.
CHECK_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_vector_store() -> None:
    """Chunks and vectors live in PostgreSQL too: the pgvector extension must be installed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is None:
            raise RuntimeError("the pgvector extension is not installed; run python manage.py migrate")


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def check_storage() -> None:
    """Write, read back and delete a small object in the file storage."""
    name = f"healthz/{uuid.uuid4().hex}.txt"
    payload = b"ok"
    saved = default_storage.save(name, ContentFile(payload))
    try:
        with default_storage.open(saved, "rb") as handle:
            if handle.read() != payload:
                raise RuntimeError("storage returned different bytes than were written")
    finally:
        default_storage.delete(saved)


CHECKS = {
    "db": check_database,
    "redis": check_redis,
    "doc_engine": check_vector_store,
    "storage": check_storage,
}


def run_checks() -> dict:
    """Run every check; return RAGFlow's healthz body with an ``_meta`` entry of timings and errors."""
    body = {}
    meta = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means the service is unhealthy
            logger.warning("Health check %s failed: %r", name, error)
            body[name] = "nok"
            meta[name] = {"error": repr(error)}
        else:
            body[name] = "ok"
            meta[name] = {}
        meta[name]["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    body["status"] = "ok" if all(body[name] == "ok" for name in CHECKS) else "nok"
    body["_meta"] = meta
    return body
