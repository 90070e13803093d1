"""`make fuzz`: schemathesis against the served OpenAPI schema, with a logged-in client.

Builds a throw-away SQLite database with the demo data, serves the API with
gunicorn on a free local port, mints an access token for the demo manager (the
role that may call the most operations) and runs schemathesis with the checks
that matter: no server error, and no status code, content type, header or body
that contradicts the schema. Exits with schemathesis's status.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="salon-fuzz-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salon_api.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'fuzz.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "OTP_PROVIDER": "console",
        "NOTIFICATION_PROVIDER": "console",
        "JWT_ACCESS_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        # Fuzzing sends thousands of login requests from one address.
        "OTP_REQUEST_RATE_PER_IP": "100000/hour",
        "OTP_REQUEST_RATE_PER_PHONE": "100000/hour",
        "OTP_VERIFY_RATE_PER_IP": "100000/hour",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=BACKEND, env=env, check=True)
    subprocess.run([python, "manage.py", "load_demo"], cwd=BACKEND, env=env, check=True, stdout=subprocess.DEVNULL)
    token = (
        subprocess.run(
            [
                python,
                "manage.py",
                "shell",
                "-c",
                "from rest_framework_simplejwt.tokens import RefreshToken; from apps.accounts.models import User; "
                "print(RefreshToken.for_user(User.objects.get(phone='+966500000001')).access_token)",
            ],
            cwd=BACKEND,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

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
            "run",
            f"http://127.0.0.1:{port}/api/schema/",
            "--header",
            f"Authorization: Bearer {token}",
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
            "junit",
            "--report-dir",
            str(workdir / "report"),
        ]
        print("$", " ".join(c if not c.startswith("Authorization") else "Authorization: Bearer ***" for c in command))
        return subprocess.run(command, cwd=BACKEND, env=env, check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=10)
        print(f"server log: {workdir / 'gunicorn.log'}; JUnit report: {workdir / 'report'}")


if __name__ == "__main__":
    sys.exit(main())
