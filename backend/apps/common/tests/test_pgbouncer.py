"""The API and the worker behind PgBouncer in transaction pooling mode (issue #23).

A PgBouncer of the test's own (Debian's package, a free port, pool_mode=transaction)
stands in front of the test database; gunicorn, the Celery worker and manage.py reach
PostgreSQL only through it, with DATABASE_TRANSACTION_POOLER=1 (no prepared statements,
no server-side cursors). The rules that rest on the database stay whole there: the
booking race, the outbox and the reminder scan. The whole suite also runs through
PgBouncer in `make test-pgbouncer`.

Skipped without PostgreSQL, Redis, libfaketime or the pgbouncer program (a failure under
SALON_REQUIRE_SERVICES=1).
"""

import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bookings.models import Booking
from apps.common.checks import transaction_pooler_warnings
from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.common.tests.live import (
    BACKEND_DIR,
    PgBouncer,
    all_at_once,
    database_url,
    pgbouncer_binary,
    run_manage,
    wait_for,
)
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus
from conftest import service_missing


@pytest.fixture
def pgbouncer(postgres):
    if pgbouncer_binary() is None:
        service_missing("the pgbouncer program (Debian's pgbouncer; `make test-postgres` installs it)")
    bouncer = PgBouncer(database_url(connection.settings_dict)).start()
    yield bouncer
    bouncer.remove()


@pytest.fixture
def pooled(pgbouncer, stack):
    """The stack's processes on the test database through PgBouncer, as behind a pooler
    in production (stopped before PgBouncer is)."""
    stack.database = pgbouncer.url(connection.settings_dict["NAME"])
    return stack


def _transactions_through(bouncer: PgBouncer) -> int:
    name = connection.settings_dict["NAME"]
    return sum(int(row["total_xact_count"]) for row in bouncer.show("STATS") if row["database"] == name)


def _booking(base, customer, haircut, staff, start):
    token = RefreshToken.for_user(customer).access_token

    def call():
        response = httpx.post(
            f"{base}/api/bookings/",
            json={"service": haircut.pk, "staff": staff.pk, "start": start.isoformat()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        return response.status_code, response.json()

    return call


@pytest.mark.services
def test_the_booking_race_and_the_outbox_hold_through_pgbouncer(pgbouncer, pooled):
    haircut = ServiceFactory(salon__name="Main Salon")
    staff = [StaffFactory(salon=haircut.salon, services=[haircut]) for _ in range(4)]
    customers = [UserFactory() for _ in range(40)]
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(RIYADH).date()
    ten = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=RIYADH)
    with FakeTwilio() as twilio:
        env = pooled.env(twilio, DATABASE_TRANSACTION_POOLER="1")
        base = pooled.web(env, workers=2, threads=4)
        pooled.worker(env, concurrency=4)
        before = _transactions_through(pgbouncer)

        # 20 customers at once for overlapping times of one staff member (10:00 to 10:19).
        race = all_at_once(
            [_booking(base, c, haircut, staff[0], ten + timedelta(minutes=i)) for i, c in enumerate(customers[:20])]
        )
        # 20 more at once, each for a free slot of their own (the other three, from 12:00).
        free = all_at_once(
            [
                _booking(base, c, haircut, staff[1 + i % 3], ten + timedelta(hours=2, minutes=30 * (i // 3)))
                for i, c in enumerate(customers[20:])
            ]
        )

        statuses = sorted(status for status, _ in race)
        assert statuses == [201] + [409] * 19, race
        assert {body["code"] for status, body in race if status == 409} == {"slot_taken"}
        assert [status for status, _ in free] == [201] * 20, free
        assert Booking.objects.filter(staff=staff[0]).count() == 1
        assert Booking.objects.count() == 21
        # The outbox: two rows per booking, each delivered once by the worker through PgBouncer.
        rows = Notification.objects.filter(event=NotificationEvent.BOOKING_CREATED)
        assert rows.count() == 42
        wait_for(lambda: rows.filter(status=NotificationStatus.SENT).count() == 42, timeout=60, what="all 42 sent")
        assert len(twilio.successes()) == 42
        assert twilio.delivered_more_than_once() == {}
        assert _transactions_through(pgbouncer) - before > 100  # the processes' work went through it


@pytest.mark.services
def test_the_reminder_scan_writes_each_reminder_once_through_pgbouncer(pgbouncer, pooled, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon")
    omar = StaffFactory(salon=haircut.salon, services=[haircut], name="Omar", preferred_language="en")
    customers = [UserFactory(name=f"Customer {n}", preferred_language="en") for n in range(6)]
    day = date.today() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=RIYADH)
    for n, customer in enumerate(customers):
        at = start + timedelta(hours=n)
        BookingFactory(
            service=haircut,
            staff=omar,
            customer=customer,
            start=at,
            reminders_from=at - timedelta(days=30),
            next_reminder_at=at - timedelta(hours=24),
        )
    # Every customer's 24-hour reminder is due; the staff member's (two hours ahead) is not.
    clock = fake_clock(start + timedelta(hours=5, minutes=1) - timedelta(hours=24))
    with FakeTwilio() as twilio:
        env = pooled.env(twilio, clock.env(), NOTIFICATION_SMS_PROVIDER="twilio", DATABASE_TRANSACTION_POOLER="1")

        # Two scans at once (cron and beat overlapping), then a third: six reminders, once each.
        outputs = all_at_once([lambda: run_manage(env, "send_due_reminders")] * 2)
        again = run_manage(env, "send_due_reminders")

        written = [int(output.split()[1]) for output in outputs]
        assert sum(written) == 6, outputs
        assert again.strip() == "Wrote 0 reminder(s) for 0 booking(s) (0 skipped)."
        reminders = Notification.objects.filter(event=NotificationEvent.BOOKING_REMINDER)
        assert reminders.count() == 6
        pooled.worker(env)
        wait_for(lambda: reminders.filter(status=NotificationStatus.SENT).count() == 6, timeout=60, what="6 sent")
        for customer in customers:
            assert len(twilio.sms_to(customer.phone)) == 1
        assert twilio.sms_to(omar.phone) == []
        assert twilio.delivered_more_than_once() == {}


def _database_settings(**env) -> dict:
    """settings.DATABASES["default"] as a process with this environment reads it."""
    code = "import json; from salon_api import settings; print(json.dumps(settings.DATABASES['default']))"
    environment = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://salon@db.example:5432/salon", **env}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND_DIR, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_behind_a_transaction_pooler_nothing_is_prepared_and_no_cursor_outlives_a_transaction():
    direct = _database_settings()
    assert direct["OPTIONS"]["server_side_binding"] is True
    assert direct["OPTIONS"]["prepare_threshold"] == 5
    assert direct["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert transaction_pooler_warnings(direct, pooler=False) == []

    pooled = _database_settings(DATABASE_TRANSACTION_POOLER="1")
    assert pooled["OPTIONS"]["server_side_binding"] is False
    assert pooled["OPTIONS"]["prepare_threshold"] is None
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert transaction_pooler_warnings(pooled, pooler=True) == []


def test_prepared_statements_or_server_side_cursors_behind_a_transaction_pooler_are_warned_about():
    prepared = _database_settings(
        DATABASE_TRANSACTION_POOLER="1", DATABASE_SERVER_SIDE_BINDING="1", DATABASE_PREPARE_THRESHOLD="5"
    )
    assert prepared["OPTIONS"]["prepare_threshold"] == 5  # on purpose: PgBouncer >= 1.21 can keep them
    assert [w.id for w in transaction_pooler_warnings(prepared, pooler=True)] == ["salon.W001"]

    bound_only = _database_settings(DATABASE_TRANSACTION_POOLER="1", DATABASE_SERVER_SIDE_BINDING="1")
    assert bound_only["OPTIONS"]["prepare_threshold"] is None  # values apart, nothing prepared: safe
    assert transaction_pooler_warnings(bound_only, pooler=True) == []

    with_cursors = {**bound_only, "DISABLE_SERVER_SIDE_CURSORS": False}
    assert [w.id for w in transaction_pooler_warnings(with_cursors, pooler=True)] == ["salon.W002"]
    assert transaction_pooler_warnings({**with_cursors, "ENGINE": "django.db.backends.sqlite3"}, pooler=True) == []
