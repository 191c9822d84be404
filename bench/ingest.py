"""Ingestion benchmark: upload a folder of documents through the HTTP API and parse them to the end.

Usage (from the repository root):

    .venv/bin/python bench/ingest.py [--docs ../shared/data/docs] [--workers 1 2] [--memory-runs 20]

For each worker count it starts a fresh stack (bench/stack.py), uploads every file with ragflow-sdk,
starts parsing and waits until no document is queued or running. It then reports pages/s, MB/s,
chunks/s, the time spent inside the embedding model against everything else, and the workers' peak
memory.
A second part parses one document ``--memory-runs`` times in a row on one worker and records the
worker's memory after each run. Results are printed and written to docs/benchmarks.md; the
per-file outcome table shows what happened to every file.
"""

import argparse
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, Stack, machine_description, write_section  # noqa: E402

DEFAULT_DOCS = ROOT.parent / "shared" / "data" / "docs"
# Parsing the whole corpus takes minutes; an hour bounds a stuck run.
RUN_TIMEOUT_SECONDS = 3600
# RSS sampling period; short enough to catch the peak of one embedding batch.
MEMORY_SAMPLE_SECONDS = 0.25
# The memory run's document: an HTML page of about fifty chunks, parsed in seconds.
MEMORY_DOCUMENT = "python-doc-tutorial-datastructures.html"
SECONDS = r"\((\d+(?:\.\d+)?)s\)"
# Step timings that the parse pipeline writes into each task's log.
STEP_LINES = {
    "model": re.compile(r"Embedding chunks " + SECONDS),
    "ocr": re.compile(r"Finish parsing with OCR " + SECONDS),
    "parse": re.compile(r"Finish parsing " + SECONDS),
    "chunk": re.compile(r"Generate \d+ chunks " + SECONDS),
    "index": re.compile(r"Indexing done " + SECONDS),
}
FINISHED_RUNS = {"DONE", "FAIL", "CANCEL"}


@dataclass
class RunResult:
    workers: int
    seconds: float
    files: int
    megabytes: float
    pdf_pages: int
    chunks: int
    step_seconds: dict[str, float]
    task_seconds: float
    peak_rss_mib: float
    outcomes: list[tuple[str, str, int, str]] = field(default_factory=list)


class MemorySampler:
    """Samples the summed resident memory of the given processes in a background thread."""

    def __init__(self, pids: list[int]):
        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        total = 0
        for process in self.processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.wait(MEMORY_SAMPLE_SECONDS):
            self.peak = max(self.peak, self.current())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def pdf_pages(paths: list[Path]) -> int:
    from documents.parsers import count_units

    total = 0
    for path in paths:
        if path.suffix.lower() == ".pdf":
            try:
                total += count_units(path.read_bytes(), path.name) or 0
            except Exception:  # noqa: BLE001 - unreadable PDFs count no pages
                pass
    return total


def upload_all(dataset, paths: list[Path]) -> tuple[list[str], list[tuple[str, str, int, str]]]:
    """Upload files one by one; return the document ids and outcome rows for rejected files."""
    ids, rejected = [], []
    for path in paths:
        try:
            documents = dataset.upload_documents([{"display_name": path.name, "blob": path.read_bytes()}])
            ids.extend(document.id for document in documents)
        except Exception as error:  # noqa: BLE001 - the SDK raises the server's message
            rejected.append((path.name, "REJECTED", 0, str(error)))
    return ids, rejected


def wait_until_finished(dataset, expected: int) -> list:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        documents = dataset.list_documents(page=1, page_size=100)
        pending = [document for document in documents if document.run not in FINISHED_RUNS]
        if len(documents) >= expected and not pending:
            return documents
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} documents still running after {RUN_TIMEOUT_SECONDS} s")
        time.sleep(1)


def task_times(stack: Stack) -> tuple[dict[str, float], float]:
    """Return the seconds of each pipeline step and of all parse tasks, read from the task rows."""
    with psycopg.connect(stack.database_url) as connection:
        rows = connection.execute("SELECT process_duration, progress_msg FROM tasks_task").fetchall()
    steps = {
        step: sum(float(match) for _, log in rows for match in pattern.findall(log or ""))
        for step, pattern in STEP_LINES.items()
    }
    return steps, sum(duration or 0 for duration, _ in rows)


def last_line(message: str) -> str:
    lines = [line for line in (message or "").splitlines() if line.strip()]
    return lines[-1][9:] if lines else ""


def run_corpus(paths: list[Path], workers: int) -> RunResult:
    from ragflow_sdk import RAGFlow

    with Stack(f"ingest_{workers}w", workers=workers) as stack:
        rag = RAGFlow(api_key=stack.api_key, base_url=stack.base_url)
        dataset = rag.create_dataset(name=f"ingest benchmark {workers} workers")
        ids, outcomes = upload_all(dataset, paths)
        print(f"[{workers} workers] uploaded {len(ids)} of {len(paths)} files; parsing", flush=True)

        with MemorySampler(stack.worker_pids()) as memory:
            started = time.perf_counter()
            dataset.async_parse_documents(ids)
            documents = wait_until_finished(dataset, len(ids))
            seconds = time.perf_counter() - started

        step_seconds, task_seconds = task_times(stack)
        for document in sorted(documents, key=lambda item: item.name):
            outcomes.append((document.name, document.run, document.chunk_count, last_line(document.progress_msg)))
        parsed_bytes = sum(path.stat().st_size for path in paths if path.name in {d.name for d in documents})
        return RunResult(
            workers=workers,
            seconds=seconds,
            files=len(documents),
            megabytes=parsed_bytes / 1e6,
            pdf_pages=pdf_pages([path for path in paths if path.name in {d.name for d in documents}]),
            chunks=sum(document.chunk_count for document in documents),
            step_seconds=step_seconds,
            task_seconds=task_seconds,
            peak_rss_mib=memory.peak / 2**20,
            outcomes=sorted(outcomes),
        )


def run_memory(path: Path, runs: int) -> list[float]:
    """Parse ``path`` ``runs`` times in a row on one worker; return the worker's RSS after each, MiB."""
    from ragflow_sdk import RAGFlow

    samples = []
    with Stack("ingest_memory", workers=1) as stack:
        rag = RAGFlow(api_key=stack.api_key, base_url=stack.base_url)
        dataset = rag.create_dataset(name="memory benchmark")
        sampler = MemorySampler(stack.worker_pids())
        for run in range(runs):
            documents = dataset.upload_documents([{"display_name": f"{run}-{path.name}", "blob": path.read_bytes()}])
            dataset.async_parse_documents([documents[0].id])
            wait_until_finished(dataset, run + 1)
            samples.append(sampler.current() / 2**20)
            print(f"[memory] run {run + 1}: worker RSS {samples[-1]:.0f} MiB", flush=True)
    return samples


def render(results: list[RunResult], memory: list[float], command: str) -> str:
    lines = [
        "## Ingestion (`bench/ingest.py`)",
        "",
        f"Machine: {machine_description()}. Command: `{command}`. Date: {time.strftime('%Y-%m-%d')}.",
        "",
        "| workers | files | seconds | PDF pages/s | MB/s | chunks/s | model s | OCR s | other s "
        "(parse / chunk / index) | other / model | peak worker RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        steps = result.step_seconds
        other = max(0.0, result.task_seconds - steps["model"] - steps["ocr"])
        ratio = other / steps["model"] if steps["model"] else float("nan")
        lines.append(
            f"| {result.workers} | {result.files} | {result.seconds:.1f} | {result.pdf_pages / result.seconds:.2f} | "
            f"{result.megabytes / result.seconds:.3f} | {result.chunks / result.seconds:.1f} | "
            f"{steps['model']:.1f} | {steps['ocr']:.1f} | {other:.1f} ({steps['parse']:.1f} / {steps['chunk']:.1f} / "
            f"{steps['index']:.1f}) | {ratio:.0%} | {result.peak_rss_mib:.0f} MiB |"
        )
    lines += [
        "",
        "\"model s\" sums the time spent inside the embedding model and \"OCR s\" the parse time of files read",
        "with Tesseract. \"other s\" is the rest of the tasks' time: reading, parsing without OCR, chunking",
        "with token counting, and writing the index, plus bookkeeping. With two workers each sum adds up",
        "the time of both.",
    ]
    if memory:
        lines += [
            "",
            f"Worker memory after each of {len(memory)} parses of `{MEMORY_DOCUMENT}` in a row (MiB): "
            + ", ".join(f"{value:.0f}" for value in memory)
            + f". First {memory[0]:.0f}, last {memory[-1]:.0f}, max {max(memory):.0f}.",
        ]
    if results:
        lines += ["", "Outcome per file (first run):", "", "| file | run | chunks | last message |", "|---|---|---|---|"]
        for name, run, chunks, message in results[0].outcomes:
            lines.append(f"| `{name}` | {run} | {chunks} | {message.replace('|', '/')[:160]} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="Folder of documents to ingest.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts to run (default 1 2).")
    parser.add_argument("--memory-runs", type=int, default=20, help="Parses in a row for the memory check; 0 skips it.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md unchanged.")
    args = parser.parse_args()

    paths = sorted(path for path in args.docs.iterdir() if path.is_file() and path.name != "MANIFEST.md")
    results = [run_corpus(paths, workers) for workers in args.workers]
    memory = run_memory(args.docs / MEMORY_DOCUMENT, args.memory_runs) if args.memory_runs else []
    report = render(results, memory, "python " + " ".join(sys.argv))
    print(report)
    if not args.no_write:
        write_section("ingest", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
