"""`make run` on a fresh clone, as a newcomer runs it: no Redis, no PostgreSQL.

One run shows: the README's "Try it" block, pasted as written, succeeds; a
booking's messages whose first provider call fails transiently are retried by
the worker and sent; a reminder goes out, written by beat's scan; the log has no
warning; Ctrl-C stops the web server, the worker and beat. The provider is a
fake Twilio of the test's own, chosen through the environment (so the run also
shows that `make run` honours it).

Live and slow (about a minute): it runs in the PostgreSQL pass of `make test`
with the other live tests. The clone reuses this checkout's virtual environment
(`make run VENV=...`) instead of downloading every package again.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from apps.common.tests import fake_twilio
from apps.common.tests.factories import RIYADH
from apps.common.tests.live import BACKEND_DIR, free_port, wait_for

pytestmark = pytest.mark.services

# What a fresh machine's environment does not have: none of our settings.
OURS = ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "CELERY_", "SALON_", "PROMETHEUS_", "DJANGO_", "SECRET_KEY")

REMINDER_SETUP = """
from datetime import time, timedelta
from decimal import Decimal
from django.utils import timezone
from apps.accounts.models import Role, User
from apps.bookings.services import booking_create
from apps.notifications.models import SalonNotificationSettings
from apps.salons.models import Salon, Service, WorkingHours
salon = Salon.objects.get(name="Main Salon")
trim = Service.objects.create(salon=salon, name="Quick trim", duration_minutes=5, price=Decimal("20"))
SalonNotificationSettings.objects.update_or_create(
    salon=salon, defaults={"reminder_offsets_minutes": [5], "quiet_hours_start": time(0), "quiet_hours_end": time(0)}
)
owl = User.objects.create(
    phone="+966501112299", name="Night Owl", role=Role.STAFF, salon=salon, preferred_language="en"
)
for day in range(7):
    WorkingHours.objects.create(staff=owl, weekday=day, start_time=time(0), end_time=time(23, 59))
trim.staff_members.add(owl)
customer = User.objects.get(phone="+966500000002")
booking = booking_create(
    actor=customer, service_id=trim.pk, staff_id=owl.pk, start=timezone.now() + timedelta(minutes=5, seconds=20)
)
print("booking", booking.pk)
"""


@pytest.fixture
def fresh_clone(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("live test: runs in the PostgreSQL pass of `make test`")
    clone = tmp_path / "salon"
    subprocess.run(["git", "clone", "--quiet", str(BACKEND_DIR.parent), str(clone)], check=True)
    return clone


def _try_it_block(readme: str) -> str:
    return re.search(r"<!-- try-it -->\n```sh\n(.*?)```", readme, re.S).group(1)


def _our_lines(output: str) -> list[str]:
    """The lines `make run` prints once installed: web, worker, beat and the runner."""
    return [line for line in output.splitlines() if re.match(r"^(web|worker|beat|run) +\| ", line)]


def test_make_run_on_a_fresh_clone(fresh_clone, tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    output_path = tmp_path / "make-run.out"
    behaviour = fake_twilio.fail_first(1)  # every message's first call: 503
    with fake_twilio.FakeTwilio(behaviour=behaviour) as fake, output_path.open("w") as output:
        env |= {
            "NOTIFICATION_PROVIDER": "twilio",
            **fake.env(),
            "NOTIFICATION_RETRY_BACKOFF_SECONDS": "1",
            "REMINDER_SCAN_INTERVAL_SECONDS": "2",
        }
        make = subprocess.Popen(
            ["make", "run", f"VENV={sys.prefix}", f"PORT={port}"],
            cwd=fresh_clone,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:

            def ready():
                if make.poll() is not None:
                    raise RuntimeError(f"make run exited:\n{output_path.read_text()[-3000:]}")
                try:
                    return httpx.get(f"{base}/api/health/ready/", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(ready, timeout=300, interval=1, what="make run to answer")

            # 1. The README's "Try it", as written.
            walk = subprocess.run(
                ["bash", "-c", _try_it_block((fresh_clone / "README.md").read_text())],
                cwd=fresh_clone,
                env={**env, "PORT": str(port)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert walk.returncode == 0, walk.stderr
            assert "booked #1 at " in walk.stdout, walk.stdout + walk.stderr
            for line in ("my bookings: #1", "staff: confirmed", "customer: cancelled"):
                assert line in walk.stdout, walk.stdout + walk.stderr

            # 2. Each of the walk's six messages failed once (503) and was sent on the retry.
            wait_for(lambda: len(fake.successes()) >= 6, timeout=60, what="the walk's messages")
            database = fresh_clone / "backend" / "db.sqlite3"

            def walk_rows():
                # The walk's own messages: beat's scan may also have written the booking's
                # 24-hour reminder (its start is less than a day away), skipped at the cancel.
                with sqlite3.connect(database) as db:
                    rows = db.execute(
                        "SELECT status, attempts FROM notifications_notification"
                        " WHERE booking_id = 1 AND event <> 'booking_reminder'"
                    )
                    return sorted(rows.fetchall())

            # The worker records "sent" a moment after the provider answered: wait for it.
            wait_for(lambda: walk_rows() == [("sent", 2)] * 6, timeout=30, what=f"six rows sent: {walk_rows()}")
            assert all(r.attempt == 2 for r in fake.successes()) and fake.delivered_more_than_once() == {}

            # 3. A reminder goes out, written by beat's scan and sent by the worker.
            local = timezone.now().astimezone(RIYADH)
            if (local + timedelta(minutes=6)).date() != local.date():
                time.sleep(7 * 60)  # a 5-minute booking may not cross the salon's midnight
            setup = subprocess.run(
                [f"{sys.prefix}/bin/python", "manage.py", "shell", "-c", REMINDER_SETUP],
                cwd=fresh_clone / "backend",
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert setup.returncode == 0, setup.stderr

            def reminded():
                return [r for r in fake.successes() if r.body.startswith("Reminder:")]

            wait_for(lambda: len(reminded()) == 2, timeout=120, interval=1, what="the reminders")
            assert {r.to for r in reminded()} == {"+966500000002", "+966501112299"}
        finally:
            # 4. Ctrl-C, as in the terminal: everything stops.
            os.killpg(make.pid, signal.SIGINT)
            make.wait(timeout=60)

    def leftovers():
        found = subprocess.run(["pgrep", "-f", str(fresh_clone)], capture_output=True, text=True)
        return found.stdout.split()

    wait_for(lambda: not leftovers(), timeout=30, what="every process of make run to stop")
    lines = _our_lines(output_path.read_text())
    assert any("run    | stopped." in line for line in lines)
    if os.geteuid() == 0:  # Celery warns root, and only root, about its privileges
        lines = [line for line in lines if "SecurityWarning" not in line]
    problems = [line for line in lines if re.search(r"WARNING|Warning:|ERROR|Traceback", line)]
    assert problems == [], "\n".join(problems)
