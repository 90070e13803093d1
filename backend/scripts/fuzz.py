"""`make fuzz`: schemathesis against the served OpenAPI schema, with a logged-in client.

Builds a throw-away database (PostgreSQL where it answers, else SQLite) with the
demo data and one booking, serves the API with
gunicorn on a free local port, mints an access token for the demo manager (the
role that may call the most operations; DELETE /api/me/ is called as a throw-away
customer, whom its first call erases) and runs schemathesis with the checks
that matter: no server error, and no status code, content type, header or body
that contradicts the schema. Exits with schemathesis's status.
"""

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

BACKEND = Path(__file__).resolve().parent.parent
EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "200")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)

# Runs in `manage.py shell` on the fuzz database: a token for the demo manager
# (the role that may call the most operations), one booking at the demo salon and
# one waiting list entry, so that the detail operations reach a real row instead
# of answering 404.
FIXTURE = """
import json
from datetime import time, timedelta
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken
from apps.accounts.models import User
from apps.bookings.services import booking_create
from apps.salons.models import Service
manager = User.objects.get(phone="+966500000001")
customer = User.objects.get(phone="+966500000002")
staff = User.objects.get(phone="+966500000003")
service = Service.objects.get(salon=manager.salon, name="Haircut")
start = (timezone.localtime() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
booking = booking_create(actor=customer, service_id=service.pk, staff_id=staff.pk, start=start)
# DELETE /api/me/ erases whoever calls it: a throw-away customer with a booking of their own.
erasable = User.objects.create_user(phone="+966500000099", name="Throw-away customer")
booking_create(actor=erasable, service_id=service.pk, staff_id=staff.pk, start=start + timedelta(hours=1))
from apps.waitlist.services import waitlist_entry_create
entry = waitlist_entry_create(
    actor=customer, service_id=service.pk, local_date=start.date(), window_start=time(9), window_end=time(21)
)
print(json.dumps({
    "token": str(RefreshToken.for_user(manager).access_token),
    "erasable_token": str(RefreshToken.for_user(erasable).access_token),
    "booking": booking.pk, "salon": manager.salon_id, "service": service.pk, "staff": staff.pk,
    "entry": entry.pk,
}))
"""

# Detail operations get the fixture's ids as their path parameter; queries and
# bodies stay generated. Random ids are covered by the API tests (64-bit bound).
DETAIL_OPERATIONS = {
    "GET /api/bookings/{id}/": "booking",
    "PATCH /api/bookings/{id}/": "booking",
    "GET /api/salons/{id}/": "salon",
    "GET /api/services/{id}/": "service",
    "GET /api/staff/{id}/": "staff",
    # The demo customer's waiting list entry (the manager sees their salon's; claiming is the customer's: 403).
    "GET /api/waitlist/{id}/": "entry",
    "DELETE /api/waitlist/{id}/": "entry",
    "POST /api/waitlist/{id}/claim/": "entry",
}


# Operations fuzzed as someone other than the manager. DELETE /api/me/ erases the caller: a
# throw-away customer's token (erased by the first call, refused with 401 after it).
OTHER_CALLERS = {"DELETE /api/me/": "erasable_token"}


def schemathesis_config(fixture: dict) -> str:
    headers = f'headers = {{ Authorization = "Bearer {fixture["token"]}" }}\n\n'
    details = "".join(
        f'[[operations]]\ninclude-name = "{name}"\nparameters = {{ "path.id" = {fixture[key]} }}\n\n'
        for name, key in DETAIL_OPERATIONS.items()
    )
    callers = "".join(
        f'[[operations]]\ninclude-name = "{name}"\nheaders = {{ Authorization = "Bearer {fixture[key]}" }}\n\n'
        for name, key in OTHER_CALLERS.items()
    )
    return headers + details + callers


def print_requests_per_operation(report_dir: Path, schema_response: httpx.Response) -> None:
    """How many requests each operation received, from schemathesis's HAR report."""
    operations = [
        (method.upper(), path, re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$"))
        for path, item in schema_response.json()["paths"].items()
        for method in item
    ]
    counts: Counter[str] = Counter()
    for har in report_dir.glob("har-*.json"):
        for entry in json.loads(har.read_text())["log"]["entries"]:
            method, path = entry["request"]["method"], urlsplit(entry["request"]["url"]).path
            name = next((f"{m} {p}" for m, p, pattern in operations if m == method and pattern.match(path)), None)
            counts[name or f"{method} (not in the schema)"] += 1
    print("requests per operation (all phases):")
    for name, count in sorted(counts.items()):
        print(f"  {count:6d}  {name}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def fuzz_database(workdir: Path):
    """A throw-away PostgreSQL database where PostgreSQL answers (production's
    database: it refuses what SQLite accepts, such as NUL bytes), else SQLite.
    With SALON_REQUIRE_SERVICES=1 a silent PostgreSQL is an error, as in `make test`."""
    server = urlsplit(os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salon"))
    maintenance = urlunsplit(server._replace(path="/postgres"))
    try:
        connection = psycopg.connect(maintenance, connect_timeout=3, autocommit=True)
    except psycopg.Error:
        if os.environ.get("SALON_REQUIRE_SERVICES") == "1":
            raise SystemExit(f"PostgreSQL does not answer at {maintenance} and SALON_REQUIRE_SERVICES=1") from None
        print("PostgreSQL does not answer: fuzzing on SQLite")
        yield f"sqlite:///{workdir / 'fuzz.sqlite3'}"
        return
    name = f"salon_fuzz_{secrets.token_hex(4)}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            print(f"fuzzing on PostgreSQL database {name}")
            yield urlunsplit(server._replace(path=f"/{name}"))
        finally:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="salon-fuzz-"))
    with fuzz_database(workdir) as database_url:
        return fuzz(workdir, database_url)


def fuzz(workdir: Path, database_url: str) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salon_api.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "",
        "OTP_PROVIDER": "console",
        "NOTIFICATION_PROVIDER": "console",
        "JWT_ACCESS_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        # Fuzzing sends thousands of login requests from one address.
        "OTP_REQUEST_RATE_PER_IP": "100000/hour",
        "OTP_REQUEST_RATE_PER_PHONE": "100000/hour",
        "OTP_VERIFY_RATE_PER_IP": "100000/hour",
        "DATA_EXPORT_RATE": "100000/hour",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=BACKEND, env=env, check=True)
    subprocess.run([python, "manage.py", "load_demo"], cwd=BACKEND, env=env, check=True, stdout=subprocess.DEVNULL)
    fixture = json.loads(
        subprocess.run(
            [python, "manage.py", "shell", "-c", FIXTURE],
            cwd=BACKEND,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    config = workdir / "schemathesis.toml"
    config.write_text(schemathesis_config(fixture))

    port = free_port()
    log = (workdir / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "salon_api.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        cwd=BACKEND,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/salons/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        command = [
            str(Path(python).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"http://127.0.0.1:{port}/api/schema/",
            "--checks",
            CHECKS,
            "--max-examples",
            EXAMPLES,
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            os.environ.get("FUZZ_SEED", "2026"),
            # One worker keeps the run deterministic for the seed; health checks are
            # about how data is generated, not about the API.
            "--workers",
            "1",
            "--suppress-health-check",
            "all",
            "--report",
            "junit,har",
            "--report-dir",
            str(workdir / "report"),
        ]
        print("$", " ".join(command), f"(logged in: {config})")
        returncode = subprocess.run(command, cwd=BACKEND, env=env, check=False).returncode
        print_requests_per_operation(workdir / "report", httpx.get(f"http://127.0.0.1:{port}/api/schema/?format=json"))
        return returncode
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(f"server log: {workdir / 'gunicorn.log'}; JUnit report: {workdir / 'report'}")


if __name__ == "__main__":
    sys.exit(main())
