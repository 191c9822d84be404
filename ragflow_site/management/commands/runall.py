"""Run the web server, one RQ worker and the progress aggregator together in the foreground."""

import logging
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ragflow_site import embedded

logger = logging.getLogger(__name__)

# gunicorn restarts a worker whose request runs longer than this (30 s by default). Retrieval that
# waits for a slow chat model (keyword, cross_languages) can take longer.
WEB_TIMEOUT_SECONDS = 120
# gunicorn workers: two suit a small machine; WEB_CONCURRENCY overrides, as gunicorn itself reads it.
DEFAULT_WEB_WORKERS = 2
# Seconds the children get to finish their current request or job after SIGTERM.
SHUTDOWN_GRACE_SECONDS = 10


def display_url(url: str) -> str:
    """Return a service URL for display, with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def services_description() -> str:
    """Return lines that name the PostgreSQL and Redis servers this process uses."""
    if os.environ.get("DATABASE_URL"):
        database = f"{display_url(settings.DATABASE_URL)} (DATABASE_URL)"
    else:
        database = (
            f"embedded PostgreSQL in {settings.VAR_DIR / 'pgdata'}; it keeps running after Ctrl+C, "
            "and `make stop` stops it"
        )
    if os.environ.get("REDIS_URL"):
        redis = f"{display_url(settings.REDIS_URL)} (REDIS_URL)"
    elif settings.REDIS_URL == embedded.LOCAL_REDIS_URL:
        redis = f"{settings.REDIS_URL} (the Redis already running on this machine)"
    else:
        redis = f"{settings.REDIS_URL} (embedded Valkey with data in {settings.VAR_DIR / 'valkey'})"
    return f"Database: {database}\nRedis:    {redis}\n"


class Command(BaseCommand):
    help = "Serve the API and admin with gunicorn, plus one RQ worker and the progress aggregator."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="Address to bind.")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 9380)), help="TCP port.")

    def handle(self, *args, host: str, port: int, **options):
        python = sys.executable
        web_workers = os.environ.get("WEB_CONCURRENCY", str(DEFAULT_WEB_WORKERS))
        commands = {
            "web": [
                python, "-m", "gunicorn", "ragflow_site.wsgi",
                "--bind", f"{host}:{port}", "--workers", web_workers, "--access-logfile", "-",
                # gunicorn's control socket defaults to one path per user, which a second checkout
                # on the same machine would fight over.
                "--no-control-socket",
                "--timeout", str(WEB_TIMEOUT_SECONDS),
            ],
            "worker": [python, "manage.py", "ingest_worker"],
            "aggregator": [python, "manage.py", "aggregate_progress"],
        }
        children = {}
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, cwd=settings.BASE_DIR)
            logger.info("Started %s (pid %s)", name, children[name].pid)

        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        base_url = f"http://{shown_host}:{port}"
        self.stdout.write(
            "\n"
            f"API:    {base_url}/api/v1/  (docs at {base_url}/api/v1/docs)\n"
            f"Admin:  {base_url}/admin/  (create a login with: .venv/bin/python manage.py createsuperuser)\n"
            "API key: .venv/bin/python manage.py create_api_key --email you@example.com --create-user\n"
            f"{services_description()}"
            "Press Ctrl+C to stop.\n"
        )

        stopping = []
        # Handlers for both signals: a shell starts background jobs with SIGINT ignored, and then
        # Python would raise no KeyboardInterrupt.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.append(True))
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        logger.error("%s exited with status %s, so the others are stopping", name, child.returncode)
                        exit_code = child.returncode or 1
                        stopping.append(True)
                        break
                time.sleep(0.5)
        finally:
            self._stop(children)
        if exit_code:
            raise CommandError(f"A process exited with status {exit_code}; see the log above.")

    def _stop(self, children: dict) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %s s; killing it", name, SHUTDOWN_GRACE_SECONDS)
                child.kill()
                child.wait()
        logger.info("All processes stopped")
