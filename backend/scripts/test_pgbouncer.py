"""The PostgreSQL suite through PgBouncer in transaction pooling mode (`make test-pgbouncer`).

Starts a PgBouncer of its own (config under backend/.run/pgbouncer/, a free port) in
front of the server of the given DATABASE_URL and runs pytest with DATABASE_URL
pointing at it and DATABASE_TRANSACTION_POOLER=1: the test process, and the gunicorn,
Celery and manage.py processes the live tests start (their DATABASE_URL is derived
from the test connection), all go through PgBouncer. pytest-django creates the test
database through it too (--create-db); it is dropped here, directly, once PgBouncer
has stopped, because a pooler keeps idle server connections to it that a DROP
DATABASE through it would trip over (--reuse-db leaves it to us).

    python scripts/test_pgbouncer.py postgres://postgres@127.0.0.1:5432/salon [pytest args]
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))

from apps.common.tests.live import PgBouncer  # noqa: E402


def drop_database(upstream: str, name: str) -> None:
    import psycopg

    maintenance = urlunsplit(urlsplit(upstream)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    upstream, pytest_args = sys.argv[1], sys.argv[2:]
    name = urlsplit(upstream).path.lstrip("/")
    bouncer = PgBouncer(upstream, folder=BACKEND / ".run" / "pgbouncer")
    bouncer.start()
    print(f"== PgBouncer {bouncer.port} (transaction pooling) in front of {upstream}", flush=True)
    env = {**os.environ, "DATABASE_URL": bouncer.url(name), "DATABASE_TRANSACTION_POOLER": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--reuse-db", "--create-db", *pytest_args], cwd=BACKEND, env=env
        )
        stats = [row for row in bouncer.show("STATS") if row["database"] == f"test_{name}"]
        transactions = sum(int(row["total_xact_count"]) for row in stats)
        queries = sum(int(row["total_query_count"]) for row in stats)
        print(f"== through PgBouncer: {transactions} transactions, {queries} queries", flush=True)
        return done.returncode
    finally:
        bouncer.stop()
        drop_database(upstream, f"test_{name}")


if __name__ == "__main__":
    sys.exit(main())
