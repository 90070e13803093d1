"""Real processes for tests and benchmarks: gunicorn, Celery workers, a Redis server.

Each helper starts a process in its own session (so it and its children can be
killed together), sends its output to a log file, and waits until it is ready.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import httpx

BACKEND_DIR = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database in tests)."""
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = Path(tempfile.mkstemp(prefix=f"salon-{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, cwd=BACKEND_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and all its children: nothing gets to clean up."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


# Retries fast enough for a test to watch them.
FAST_RETRIES = {
    "NOTIFICATION_RETRY_BACKOFF_SECONDS": "0.2",
    "NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS": "1",
    "NOTIFICATION_CLAIM_SECONDS": "5",
    "CELERY_VISIBILITY_TIMEOUT": "8",
}


class Stack:
    """Starts processes for one test (gunicorn, Celery workers, Redis servers) on the
    test's PostgreSQL database and stops every one of them afterwards."""

    def __init__(self, broker: str):
        import uuid

        from django.db import connection

        self.broker = broker
        self.queue = f"salon-test-{uuid.uuid4().hex[:10]}"
        self.database = database_url(connection.settings_dict)
        self.processes = []

    def env(self, *fakes, broker: str | None = None, **extra) -> dict[str, str]:
        """The environment of the stack's processes, pointed at these fake providers."""
        settings = {}
        for fake in fakes:  # fake servers (their env() or settings()), or plain dicts (a FakeClock's env())
            settings |= fake if isinstance(fake, dict) else fake.env() if hasattr(fake, "env") else fake.settings()
        return stack_env(
            database=self.database, broker=broker or self.broker, queue=self.queue, **(settings | FAST_RETRIES | extra)
        )

    def worker(self, env, **kwargs) -> "Process":
        process = start_worker(env, **kwargs)
        self.processes.append(process)
        return process

    def web(self, env, **kwargs) -> str:
        process, base = start_web(env, **kwargs)
        self.processes.append(process)
        return base

    def beat(self, env) -> "Process":
        process = start_beat(env)
        self.processes.append(process)
        return process

    def redis(self, port) -> "Process":
        process = start_redis(port)
        self.processes.append(process)
        return process

    def close(self) -> None:
        import redis

        for process in reversed(self.processes):
            process.stop()
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.broker, socket_connect_timeout=1).delete(self.queue)


def stack_env(*, database: str, broker: str, queue: str, **extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salon_api.settings",
        "DATABASE_URL": database,
        # Behind PgBouncer (`make test-pgbouncer`) the processes are too: no prepared statements.
        "DATABASE_TRANSACTION_POOLER": "1" if settings.DATABASE_TRANSACTION_POOLER else "0",
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": queue,
        "SECRET_KEY": settings.SECRET_KEY,  # tokens minted by the test process stay valid
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OTP_PROVIDER": "console",
        "NOTIFICATION_PROVIDER": "twilio",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(env: dict[str, str], *, concurrency: int = 8, pool: str = "prefork", name: str = "w") -> Process:
    node = f"{name}-{os.getpid()}-{free_port()}@localhost"
    process = Process(
        f"worker-{name}",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "salon_api",
            "worker",
            "-Q",
            env["CELERY_QUEUE"],
            "-n",
            node,
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ],
        env,
    )
    try:
        wait_for(lambda: " ready." in process.log() or not process.alive(), timeout=30, what="worker ready")
    except TimeoutError:
        process.stop()
        raise
    if not process.alive():
        raise RuntimeError(f"worker exited:\n{process.log()}")
    return process


def start_web(
    env: dict[str, str],
    *,
    workers: int = 2,
    threads: int = 1,
    ready_path: str = "/api/salons/",
    port: int | None = None,
) -> tuple[Process, str]:
    """gunicorn with backend/gunicorn.conf.py, as in production; ready when `ready_path` answers 200."""
    port = port or free_port()
    process = Process(
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "salon_api.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        env,
    )
    base = f"http://127.0.0.1:{port}"

    def answers():
        if not process.alive():
            raise RuntimeError(f"gunicorn exited:\n{process.log()}")
        try:
            return httpx.get(f"{base}{ready_path}", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answers, timeout=30, what="gunicorn")
    return process, base


def start_beat(env: dict[str, str]) -> Process:
    """Celery beat (the sweep and the reminder scan), its schedule in a folder of its own."""
    schedule = Path(tempfile.mkdtemp(prefix="salon-beat-")) / "schedule"
    process = Process(
        "beat",
        [sys.executable, "-m", "celery", "-A", "salon_api", "beat", "-l", "info", "--schedule", str(schedule)],
        env,
    )
    wait_for(lambda: "beat: Starting" in process.log() or not process.alive(), timeout=30, what="beat ready")
    if not process.alive():
        raise RuntimeError(f"beat exited:\n{process.log()}")
    return process


def start_redis(port: int) -> Process:
    process = Process(
        "redis",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        dict(os.environ),
    )

    def answers():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_for(answers, timeout=10, what=f"redis on {port}")
    return process


def run_manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class PostgresServer:
    """A PostgreSQL server of the test's own (initdb in a temporary folder, a free
    port), that the test can stop and start again. As root it runs as `postgres`."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="salon-pg-"))
        self.data = self.folder / "data"
        self.process: Process | None = None
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.folder, user="postgres")
        subprocess.run(
            [*self._as_postgres, str(bindir / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres"],
            check=True,
            capture_output=True,
            timeout=60,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/salon"

    def start(self) -> None:
        self.process = Process(
            "postgres",
            [
                *self._as_postgres,
                str(self.bindir / "postgres"),
                "-D", str(self.data),
                "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"unix_socket_directories={self.folder}",
                "-c", "fsync=off",
            ],
            dict(os.environ),
        )  # fmt: skip

        def answers():
            if not self.process.alive():
                raise RuntimeError(f"postgres exited:\n{self.process.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(answers, timeout=30, what="postgres")
        time.sleep(0.3)  # accepting connections a moment after the port opens

    def stop(self) -> None:
        """Fast shutdown: sessions are cut, as when a database server goes away."""
        if self.process and self.process.alive():
            self.process.signal_group(signal.SIGINT)
            self.process.popen.wait(timeout=30)

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE salon")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def pgbouncer_binary() -> str | None:
    """Debian's pgbouncer (in /usr/sbin, outside a user's PATH)."""
    return shutil.which("pgbouncer") or next(iter(glob.glob("/usr/sbin/pgbouncer")), None)


class PgBouncer:
    """PgBouncer (Debian's package) in transaction pooling mode on a free port, in front
    of the PostgreSQL server of ``upstream`` (a DATABASE_URL): every database there is
    served under its own name (``* =``), clients of that URL's user are trusted. As
    root it runs as `postgres` (PgBouncer refuses root)."""

    def __init__(self, upstream: str, *, folder: Path | None = None, pool_size: int = 20, port: int | None = None):
        url = urlsplit(upstream)
        self.user = unquote(url.username or "postgres")
        self.password = unquote(url.password or "")
        self.port = port or free_port()
        self.folder = Path(folder or tempfile.mkdtemp(prefix="salon-pgbouncer-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.binary = pgbouncer_binary()
        if self.binary is None:
            raise RuntimeError("pgbouncer is missing (Debian's pgbouncer package; `make pgbouncer` installs it)")
        self.process: Process | None = None
        quoted = (self.password or "").replace('"', '""')
        (self.folder / "userlist.txt").write_text(f'"{self.user}" "{quoted}"\n')
        (self.folder / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={url.hostname or '127.0.0.1'} port={url.port or 5432}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {self.folder / 'userlist.txt'}",
                    f"admin_users = {self.user}",
                    "pool_mode = transaction",
                    f"default_pool_size = {pool_size}",
                    "max_client_conn = 1000",
                    # psycopg's libpq sends none of these, other clients may.
                    "ignore_startup_parameters = extra_float_digits",
                    "log_connections = 0",
                    "log_disconnections = 0",
                    "",
                ]
            )
        )
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            for path in (self.folder, self.folder / "pgbouncer.ini", self.folder / "userlist.txt"):
                shutil.chown(path, user="postgres")
            (self.folder / "userlist.txt").chmod(0o600)

    def url(self, database: str) -> str:
        """A DATABASE_URL for ``database`` through this PgBouncer."""
        auth = quote(self.user) + (f":{quote(self.password)}" if self.password else "")
        return f"postgres://{auth}@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PgBouncer":
        user = ["-u", "postgres"] if self._as_postgres else []
        self.process = Process("pgbouncer", [self.binary, *user, str(self.folder / "pgbouncer.ini")], dict(os.environ))

        def answers():
            if not self.process.alive():
                raise RuntimeError(f"pgbouncer exited:\n{self.process.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(answers, timeout=15, what="pgbouncer")
        return self

    def show(self, what: str) -> list[dict]:
        """A SHOW command of PgBouncer's admin console (POOLS, STATS, SERVERS...) as rows."""
        import psycopg
        from psycopg.rows import dict_row

        # The console speaks the simple query protocol only: a client-side cursor sends that.
        with psycopg.connect(
            self.url("pgbouncer"), autocommit=True, cursor_factory=psycopg.ClientCursor, row_factory=dict_row
        ) as conn:
            return conn.execute(f"SHOW {what}").fetchall()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- a clock for the stack's processes ----------------------------------------------------------
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))), None)
# libfaketime 0.9.10 (Debian 12) answers EINVAL to Python's time.sleep when the monotonic clock is
# left alone (clock_nanosleep with TIMER_ABSTIME); the faked processes sleep by select instead.
SLEEP_SHIM = """
import select
import time


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
"""


class FakeClock:
    """The wall clock of the processes a test starts (gunicorn, workers, beat, manage.py),
    moved with libfaketime: ``set`` makes it read that moment now, and it runs on from
    there. The monotonic clock is left alone, so timeouts and waits stay real. The test
    process itself keeps the real clock (compare with the database, not with now())."""

    def __init__(self, moment):
        if LIBFAKETIME is None:
            raise RuntimeError("libfaketime is missing (the `libfaketime` fixture skips or fails first)")
        self.folder = Path(tempfile.mkdtemp(prefix="salon-clock-"))
        (self.folder / "sitecustomize.py").write_text(SLEEP_SHIM)
        self.file = self.folder / "offset"
        self.set(moment)

    def set(self, moment) -> None:
        """From now on the processes' clock reads ``moment`` (an aware datetime) and runs on."""
        offset = moment.timestamp() - time.time()
        self.file.write_text(f"{offset:+.3f}\n")

    def env(self) -> dict[str, str]:
        return {
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME_TIMESTAMP_FILE": str(self.file),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": str(self.folder),
        }

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def all_at_once(calls):
    """Run the calls in threads released together; return their results in order."""
    import threading

    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def rows_read(plan_node: dict, table: str) -> int:
    """Rows a plan (EXPLAIN (ANALYZE, FORMAT JSON)) read from ``table``: returned or filtered out."""
    own = 0
    if plan_node.get("Relation Name") == table:
        own = plan_node.get("Actual Rows", 0) + plan_node.get("Rows Removed by Filter", 0)
    return own + sum(rows_read(child, table) for child in plan_node.get("Plans", []))
