"""Fixtures for pipeline tests: a real RQ worker process on the test database, and polling helpers."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from documents.choices import RunStatus
from documents.models import Document
from tasks.progress import aggregate_once

# The worker loads torch and the embedding model before its first job: about 6 s on two cores.
WORKER_START_TIMEOUT = 120
# A small text file parses and embeds in a few seconds; the timeout leaves room for a slow machine.
PARSE_TIMEOUT = 120


def database_url() -> str:
    """URL of the database the test run uses (pytest-django's test database)."""
    params = connection.settings_dict
    host = params.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{params['USER']}:{params.get('PASSWORD') or ''}@/{params['NAME']}?host={host}"
    return f"postgresql://{params['USER']}:{params.get('PASSWORD') or ''}@{host}:{params.get('PORT') or 5432}/{params['NAME']}"


def worker_env(**overrides) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=database_url(),
        REDIS_TEST_DB=str(settings.REDIS_TEST_DB),
        TASK_HEARTBEAT_SECONDS=str(settings.TASK_HEARTBEAT_SECONDS),
        TASK_HEARTBEAT_TIMEOUT_SECONDS=str(settings.TASK_HEARTBEAT_TIMEOUT_SECONDS),
        TASK_RETRY_DELAY_SECONDS=str(settings.TASK_RETRY_DELAY_SECONDS),
        # The subprocess derives these from its DATABASE_URL otherwise, which names the test database.
        RQ_QUEUE=settings.RQ_QUEUE_NAME,
        REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class WorkerProcess:
    """An ``rqworker`` subprocess running the project's ingestion worker class."""

    def __init__(self, log_path, **env_overrides):
        self.log_path = log_path
        self.env = worker_env(**env_overrides)
        self.process = None

    def start(self):
        command = [sys.executable, "manage.py", "ingest_worker"]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while b"Listening on" not in self.log_path.read_bytes():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, "worker did not start:\n" + self.output()
            time.sleep(0.2)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(tmp_path):
    workers = []

    def start(**env_overrides):
        worker = WorkerProcess(tmp_path / f"worker{len(workers)}.log", **env_overrides).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for_run(document_id: str, runs=(RunStatus.DONE, RunStatus.FAIL, RunStatus.CANCEL), timeout=PARSE_TIMEOUT, worker=None):
    """Tick the aggregator until the document's run is one of ``runs``; return the document."""
    deadline = time.monotonic() + timeout
    while True:
        aggregate_once()
        document = Document.objects.get(pk=document_id)
        if document.run in runs:
            return document
        if time.monotonic() > deadline:
            detail = worker.output() if worker else ""
            raise AssertionError(f"document stayed {document.run}: {document.progress_msg}\n{detail}")
        time.sleep(0.3)
