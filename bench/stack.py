"""A throw-away server stack for benchmarks: web, workers and aggregator on a database of its own.

The stack uses the embedded PostgreSQL (or the server of ``DATABASE_URL``'s host) with a fresh
database named ``ragflow_bench_<name>`` and its own Redis database number, so benchmarks never touch
development data. Run from the repository root with the project's virtual environment.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Workers import torch and load the embedding model before they listen: about 6 s on two cores.
START_TIMEOUT_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _server_url() -> str:
    """URL of the PostgreSQL server's maintenance database."""
    if os.environ.get("DATABASE_URL"):
        return _with_path(os.environ["DATABASE_URL"], "/postgres")
    from ragflow_site import embedded

    var_dir = Path(os.environ.get("RAGFLOW_VAR_DIR") or ROOT / "var").resolve()
    return _with_path(embedded.ensure_postgres(var_dir), "/postgres")


def _redis_base_url() -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    from ragflow_site import embedded

    return embedded.default_redis_url(Path(os.environ.get("RAGFLOW_VAR_DIR") or ROOT / "var").resolve())


class Stack:
    """Web server, ``workers`` RQ workers and one aggregator, started as subprocesses."""

    def __init__(self, name: str, *, workers: int = 1, redis_db: int = 14, web_workers: int = 2):
        self.name = name
        self.database = f"ragflow_bench_{name}"
        self.worker_count = workers
        self.web_workers = web_workers
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server_url = _server_url()
        self.database_url = _with_path(self.server_url, f"/{self.database}")
        self.redis_url = _with_path(_redis_base_url(), f"/{redis_db}")
        self.log_dir = ROOT / "var" / "bench" / name
        self.processes: dict[str, subprocess.Popen] = {}
        self.api_key = None

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            DJANGO_SETTINGS_MODULE="ragflow_site.settings",
            RAGFLOW_FILES_DIR=str(ROOT / "var" / "bench" / self.name / "files"),
            LOG_LEVEL=env.get("LOG_LEVEL", "INFO"),
        )
        return env

    def _reset_database(self, *, recreate: bool = True) -> None:
        if recreate:
            with psycopg.connect(self.server_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database))
                )
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        client = redis.Redis.from_url(self.redis_url)
        client.flushdb()
        client.close()

    def _worker_env(self) -> dict:
        """Return the workers' environment: the cores split between them unless EMBEDDING_THREADS is set."""
        env = self.env
        if self.worker_count > 1 and not env.get("EMBEDDING_THREADS"):
            env["EMBEDDING_THREADS"] = str(max(1, (os.cpu_count() or 1) // self.worker_count))
        return env

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        return process

    def start(self, *, reuse_database: bool = False) -> "Stack":
        """Start the processes on a new database, or on the one an earlier run kept."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._reset_database(recreate=not reuse_database)
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)
        self._spawn(
            "web",
            [python, "-m", "gunicorn", "ragflow_site.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.web_workers), "--timeout", "300", "--no-control-socket"],
        )
        for index in range(self.worker_count):
            self._spawn(f"worker{index}", [python, "manage.py", "ingest_worker"], self._worker_env())
        self._spawn("aggregator", [python, "manage.py", "aggregate_progress", "--interval", "0.5"])
        self._wait_ready()
        created = subprocess.run(
            [python, "manage.py", "create_api_key", "--email", f"bench-{self.name}@example.com", "--create-user"],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True,
        )
        self.api_key = created.stdout.strip().splitlines()[-1]
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.log_dir / (name + '.log')}")
            try:
                web_ready = requests.get(f"{self.base_url}/api/v1/system/ping", timeout=2).ok
            except requests.RequestException:
                web_ready = False
            workers_ready = all(
                b"Listening on" in (self.log_dir / f"worker{index}.log").read_bytes()
                for index in range(self.worker_count)
            )
            if web_ready and workers_ready:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"stack {self.name} did not start within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.5)

    def worker_pids(self) -> list[int]:
        return [process.pid for name, process in self.processes.items() if name.startswith("worker")]

    def stop(self, *, drop_database: bool = True) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        if drop_database:
            with psycopg.connect(self.server_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database))
                )

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def setup_django(stack: Stack) -> None:
    """Point this process's Django at the stack's database, for reading results with the ORM."""
    for key, value in stack.env.items():
        os.environ[key] = value
    import django

    django.setup()


BENCHMARKS_FILE = ROOT / "docs" / "benchmarks.md"
BENCHMARKS_HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `bench/`. Each section is replaced when its script runs again.\n"
)


def machine_description() -> str:
    """Return one line naming the CPU, core count and memory of this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, Python {sys.version.split()[0]}"


def write_section(name: str, markdown: str) -> None:
    """Replace the section ``name`` of docs/benchmarks.md with ``markdown`` (append it when new)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = BENCHMARKS_FILE.read_text() if BENCHMARKS_FILE.exists() else BENCHMARKS_HEADER
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_FILE.write_text(text)
