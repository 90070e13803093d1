"""Two customers in one chair at one time must be impossible, even under concurrency.

PostgreSQL only (the `postgres` fixture skips on SQLite): gunicorn with several
processes and threads serves the API and many client threads hit it at once.
"""

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.live import all_at_once, database_url, stack_env, start_web
from apps.notifications.models import Notification

pytestmark = pytest.mark.services


@pytest.fixture
def web(postgres):
    from django.db import connection

    # No broker: messages go out in-process after commit, through the console provider.
    env = stack_env(
        database=database_url(connection.settings_dict),
        broker="",
        queue=f"unused-{uuid.uuid4().hex[:6]}",
        NOTIFICATION_PROVIDER="console",
    )
    process, base = start_web(env, workers=4, threads=4)
    yield base
    process.stop()


def _tomorrow(hhmm: str) -> datetime:
    day = (timezone.now() + timedelta(days=1)).astimezone(RIYADH).date()
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=RIYADH)


def _client_call(base, user, method, path, body):
    token = RefreshToken.for_user(user).access_token

    def call():
        response = httpx.request(
            method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        return response.status_code, response.json()

    return call


def test_50_concurrent_overlapping_bookings_give_one_201_and_49_409(web):
    haircut = ServiceFactory()
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    customers = [UserFactory() for _ in range(50)]
    base_start = _tomorrow("10:00")
    calls = [
        _client_call(
            web,
            customer,
            "POST",
            "/api/bookings/",
            # Every start overlaps every other: 10:00 to 10:24, 30-minute service.
            {"service": haircut.pk, "staff": stylist.pk, "start": (base_start + timedelta(minutes=i % 25)).isoformat()},
        )
        for i, customer in enumerate(customers)
    ]

    results = all_at_once(calls)

    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == 49, statuses
    assert all(body["code"] == "slot_taken" for status, body in results if status == 409)
    assert Booking.objects.count() == 1
    assert Notification.objects.count() == 2


def test_concurrent_reschedules_into_the_same_slot_only_one_succeeds(web):
    haircut = ServiceFactory()
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    first = BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:00"))
    second = BookingFactory(service=haircut, staff=stylist, start=_tomorrow("12:00"))
    target = _tomorrow("15:00").isoformat()

    results = all_at_once(
        [
            _client_call(web, first.customer, "PATCH", f"/api/bookings/{first.pk}/", {"start": target}),
            _client_call(web, second.customer, "PATCH", f"/api/bookings/{second.pk}/", {"start": target}),
        ]
    )

    assert sorted(status for status, _ in results) == [200, 409]
    starts = sorted(b.start.astimezone(RIYADH).strftime("%H:%M") for b in Booking.objects.all())
    assert starts in (["10:00", "15:00"], ["12:00", "15:00"])


def test_the_database_itself_refuses_overlapping_active_bookings(postgres):
    haircut = ServiceFactory()
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:00"))

    # Written straight to the table, past every check in the services.
    with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
        BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:15"))

    BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:15"), status=BookingStatus.CANCELLED)
    BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:30"))  # back to back is fine
    BookingFactory(service=haircut, staff=StaffFactory(salon=haircut.salon), start=_tomorrow("10:00"))
    assert Booking.objects.count() == 4


def test_the_constraint_covers_the_buffer(postgres):
    haircut = ServiceFactory(buffer_minutes=15)
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:00"))  # busy until 10:45

    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:30"))
    BookingFactory(service=haircut, staff=stylist, start=_tomorrow("10:45"))
