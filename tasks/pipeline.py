"""The parse job's steps: read the file, parse a page range, chunk, embed, and store the chunks."""

import logging
import threading
import time

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from documents import chunk_store
from documents.choices import RunStatus
from documents.models import Document
from knowledgebases.embeddings import LOCAL_BATCH_SIZE, embedder_for
from knowledgebases.model_registry import resolve_model
from tasks import cancellation
from tasks.choices import TaskStatus
from tasks.models import Task
from tasks.services import appended_log, stamp, task_log_with

logger = logging.getLogger(__name__)

# Fractions of a task's progress at the end of each step; embedding dominates the time.
PARSED_PROGRESS = 0.3
CHUNKED_PROGRESS = 0.35
EMBEDDED_PROGRESS = 0.95


class TaskCancelled(Exception):
    """The task was cancelled, deleted or replaced while it ran; its work must be discarded."""


class TaskReporter:
    """Progress, log lines and cancellation checks of one running task."""

    def __init__(self, task: Task, unit: str = "Page"):
        self.task = task
        self.prefix = f"{unit}({task.from_page + 1}~{task.to_page}): " if task.covers_page_range else ""

    def check_cancelled(self) -> None:
        if cancellation.cancel_requested(self.task.id):
            raise TaskCancelled(f"task {self.task.id} was cancelled")
        status = Task.objects.filter(pk=self.task.id).values_list("status", flat=True).first()
        if status != TaskStatus.RUNNING:
            raise TaskCancelled(f"task {self.task.id} is {status or 'deleted'}")

    def report(self, progress: float | None = None, message: str | None = None) -> None:
        """Store progress (never moving backwards) and append a log line, unless the task stopped."""
        changes = {"process_duration": (timezone.now() - self.task.begin_at).total_seconds()}
        if progress is not None:
            changes["progress"] = Greatest(F("progress"), progress)
        if message:
            changes["progress_msg"] = task_log_with(self.task.id, stamp(self.prefix + message))
        Task.objects.filter(pk=self.task.id, status=TaskStatus.RUNNING).update(**changes)


class Heartbeat:
    """Background thread that stamps ``heartbeat_at`` while the job runs, proving the worker lives."""

    def __init__(self, task_id: str):
        self.task_id = task_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{task_id}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        try:
            while not self._stop.wait(settings.TASK_HEARTBEAT_SECONDS):
                try:
                    Task.objects.filter(pk=self.task_id, status=TaskStatus.RUNNING).update(heartbeat_at=timezone.now())
                except Exception as error:  # noqa: BLE001 - a missed beat is retried at the next one
                    logger.warning("Heartbeat of task %s failed: %r", self.task_id, error)
                    close_old_connections()
        finally:
            connection.close()


def run_task(task: Task) -> None:
    """Parse, chunk, embed and store one claimed task; raises on failure or cancellation."""
    from documents import parsers
    from documents.chunking import chunk as chunk_document
    from documents.chunking import default_token_counter

    started = time.perf_counter()
    document = Document.objects.select_related("dataset").filter(pk=task.document_id).first()
    if document is None:
        raise TaskCancelled(f"document of task {task.id} was deleted")
    # PDF tasks cover pages; spreadsheet tasks cover data rows.
    reporter = TaskReporter(task, unit="Page" if document.suffix == "pdf" else "Rows")
    dataset = document.dataset

    reporter.report(0.01, "Start to parse.")
    with default_storage.open(document.location, "rb") as handle:
        data = handle.read()
    to_page = task.to_page if task.covers_page_range else None

    def parse_progress(fraction: float, message: str) -> None:
        reporter.report(max(0.0, min(1.0, fraction)) * PARSED_PROGRESS)

    parse_started = time.perf_counter()
    parsed = parsers.parse(
        data, document.name, from_page=task.from_page, to_page=to_page,
        progress=parse_progress, cancel=reporter.check_cancelled,
    )
    for notice in parsed.notices:
        reporter.report(None, notice.message)
    # OCR is a model of its own; benchmarks separate its time from the rest of parsing.
    used_ocr = parsed.format == "image" or bool(parsed.metadata.get("ocr_pages"))
    parse_seconds = time.perf_counter() - parse_started
    reporter.report(PARSED_PROGRESS, f"Finish parsing{' with OCR' if used_ocr else ''} ({parse_seconds:.2f}s).")

    chunk_started = time.perf_counter()
    counter = default_token_counter()
    chunks = chunk_document(parsed, document.chunk_method, document.parser_config or {}, token_counter=counter)
    chunks = [chunk for chunk in chunks if chunk.content.strip()]
    reporter.report(CHUNKED_PROGRESS, f"Generate {len(chunks)} chunks ({time.perf_counter() - chunk_started:.2f}s)")
    reporter.check_cancelled()

    vectors = _embed(chunks, dataset, reporter)
    base_position = task.from_page * 1_000_000
    rows = [
        chunk_store.ChunkData(
            content=chunk.content,
            embedding=vector,
            position=base_position + index,
            token_count=chunk.token_count,
            page_numbers=list(chunk.page_numbers),
            positions=[list(box) for box in chunk.positions],
            doc_type=chunk.doc_type,
            questions=[chunk.question] if chunk.question else [],
        )
        for index, (chunk, vector) in enumerate(zip(chunks, vectors))
    ]
    _store(task, document, rows, reporter, started)


def _embed(chunks, dataset, reporter: TaskReporter) -> list[list[float]]:
    if not chunks:
        return []
    tenant_model = resolve_model(dataset.tenant_id, dataset.embedding_model, "embedding")
    embedder = embedder_for(tenant_model)
    embed_started = time.perf_counter()
    vectors = []
    for start in range(0, len(chunks), LOCAL_BATCH_SIZE):
        reporter.check_cancelled()
        batch = chunks[start : start + LOCAL_BATCH_SIZE]
        vectors.extend(embedder.embed([chunk.content for chunk in batch]))
        done = len(vectors) / len(chunks)
        reporter.report(CHUNKED_PROGRESS + done * (EMBEDDED_PROGRESS - CHUNKED_PROGRESS))
    reporter.report(None, f"Embedding chunks ({time.perf_counter() - embed_started:.2f}s)")
    return vectors


def _store(task: Task, document: Document, rows, reporter: TaskReporter, started: float) -> None:
    dimensions = {len(row.embedding) for row in rows if row.embedding is not None}
    for dimension in dimensions:
        chunk_store.ensure_vector_index(dimension)

    index_started = time.perf_counter()
    with transaction.atomic():
        # Lock order (document, then task) matches stop and delete, so they cannot deadlock.
        locked_document = Document.objects.select_for_update().filter(pk=document.id).first()
        locked_task = Task.objects.select_for_update().filter(pk=task.id).first()
        if locked_document is None or locked_task is None:
            raise TaskCancelled(f"document or task {task.id} was deleted")
        if locked_task.status != TaskStatus.RUNNING or locked_document.run != RunStatus.RUNNING:
            raise TaskCancelled(f"task {task.id} is {locked_task.status}, document run {locked_document.run}")
        chunk_count, token_count = chunk_store.replace_task_chunks(
            task_id=task.id, dataset_id=document.dataset_id, document_id=document.id, chunks=rows
        )
        elapsed = time.perf_counter() - started
        log = appended_log(
            locked_task.progress_msg,
            stamp(reporter.prefix + f"Indexing done ({time.perf_counter() - index_started:.2f}s)."),
            stamp(reporter.prefix + f"Task done ({elapsed:.2f}s)"),
        )
        Task.objects.filter(pk=task.id).update(
            status=TaskStatus.DONE,
            progress=1.0,
            progress_msg=log,
            chunk_count=chunk_count,
            token_count=token_count,
            process_duration=(timezone.now() - task.begin_at).total_seconds(),
            error="",
        )
    logger.info("Task %s of document %s stored %d chunks in %.2f s", task.id, document.id, chunk_count, elapsed)
