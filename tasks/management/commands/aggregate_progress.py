"""Loop that folds worker progress into documents, with one active writer across the cluster."""

import logging
import signal
import threading

import redis
from django import db
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tasks.locks import RedisLock
from tasks.progress import aggregate_once

logger = logging.getLogger(__name__)

# The lock outlives a few ticks, so a slow tick does not lose it, yet a crashed aggregator's
# lock frees within half a minute for a standby to take over.
LOCK_TTL_SECONDS = 30


class Command(BaseCommand):
    help = "Fold task progress into documents and datasets every --interval seconds under a Redis lock."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between ticks (default 1).")
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        if interval <= 0:
            raise CommandError(f"--interval must be a positive number of seconds, got {interval}.")
        client = redis.Redis.from_url(settings.REDIS_URL)
        lock = RedisLock(client, f"{settings.REDIS_KEY_PREFIX}:aggregator:lock", LOCK_TTL_SECONDS)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())

        logger.info("Progress aggregator started (interval %.1f s, lock %s)", interval, lock.name)
        holding = False
        try:
            while not stop.is_set():
                holding = lock.renew() if holding else lock.acquire()
                if holding:
                    self._tick(interval)
                if once:
                    if not holding:
                        logger.info("Another aggregator holds %s, so this tick skipped its work", lock.name)
                    break
                stop.wait(interval)
        finally:
            if holding:
                lock.release()
            client.close()
            logger.info("Progress aggregator stopped")

    def _tick(self, interval: float) -> None:
        try:
            changed = aggregate_once()
        except Exception:
            # A lost database connection or a bad row must not end the loop; the next tick retries.
            logger.exception("Aggregator tick failed; retrying in %.1f s", interval)
            db.close_old_connections()
            return
        if changed:
            logger.debug("Aggregator tick updated %d documents", changed)
