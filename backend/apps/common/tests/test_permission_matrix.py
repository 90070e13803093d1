"""Every endpoint x method x kind of caller -> the status they get, from one table.

The table is the access policy in one place. `test_every_endpoint_has_a_row`
enumerates the API's URLs the way the OpenAPI schema does, so an endpoint added
without a row here fails the suite.
"""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.generators import EndpointEnumerator
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bookings.models import Booking
from apps.common.tests.factories import BookingFactory, ManagerFactory, ServiceFactory, StaffFactory, UserFactory
from apps.waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

ACTORS = [
    "anonymous",
    "customer",  # the booking's customer
    "other_customer",
    "staff",  # the booking's staff member
    "other_staff",  # another staff member of the same salon
    "foreign_staff",  # staff of another salon
    "manager",  # manager of the booking's salon
    "foreign_manager",  # manager of another salon
]


def row(anonymous, customer, other_customer, staff, other_staff, foreign_staff, manager, foreign_manager):
    return dict(
        zip(
            ACTORS,
            [anonymous, customer, other_customer, staff, other_staff, foreign_staff, manager, foreign_manager],
            strict=True,
        )
    )


def everyone(status):
    return dict.fromkeys(ACTORS, status)


def signed_in(status):
    return {**everyone(status), "anonymous": 401}


FREE_START = "2026-03-01T15:00:00+03:00"
OFFERED_START = "2026-03-01T17:00:00+03:00"

# (method, path template) -> (expected status per actor, request body builder)
MATRIX = {
    ("POST", "/api/auth/otp/request/"): (everyone(202), lambda ctx, actor: {"phone": ctx["fresh_phone"]}),
    ("POST", "/api/auth/otp/verify/"): (everyone(400), lambda ctx, actor: {"phone": "0501234567", "code": "000000"}),
    ("POST", "/api/auth/token/refresh/"): (
        signed_in(200),
        lambda ctx, actor: {"refresh": ctx["refresh"].get(actor, "x")},
    ),
    ("POST", "/api/auth/logout/"): (signed_in(204), lambda ctx, actor: {"refresh": ctx["refresh"].get(actor, "x")}),
    ("GET", "/api/me/"): (signed_in(200), None),
    ("PATCH", "/api/me/"): (signed_in(200), lambda ctx, actor: {"name": "New name"}),
    # Everyone signed in reads and records only their own consent (no id in the path).
    ("GET", "/api/me/consents/"): (signed_in(200), None),
    ("POST", "/api/me/consents/"): (signed_in(201), lambda ctx, actor: {"channel": "sms", "granted": True}),
    # Personal data: always one's own (apps/privacy/tests). Erasure is for customers.
    ("DELETE", "/api/me/"): (row(401, 204, 204, 403, 403, 403, 403, 403), None),
    ("GET", "/api/me/export/"): (signed_in(200), None),
    ("GET", "/api/me/data-requests/"): (signed_in(200), None),
    ("POST", "/api/me/data-requests/"): (
        signed_in(201),
        lambda ctx, actor: {"kind": "correction", "details": "My name is spelled differently."},
    ),
    ("GET", "/api/salons/"): (everyone(200), None),
    ("GET", "/api/salons/{id}/"): (everyone(200), None),
    ("GET", "/api/services/"): (everyone(200), None),
    ("GET", "/api/services/{id}/"): (everyone(200), None),
    ("GET", "/api/staff/"): (everyone(200), None),
    ("GET", "/api/staff/{id}/"): (everyone(200), None),
    ("GET", "/api/availability/"): (everyone(200), None),
    ("GET", "/api/schema/"): (everyone(200), None),
    ("GET", "/api/health/"): (everyone(200), None),
    ("GET", "/api/health/ready/"): (everyone(200), None),
    ("GET", "/api/docs/"): (everyone(200), None),
    # Provider callbacks: only a valid provider signature gets in (tested in
    # apps/notifications/tests/test_webhooks.py); a login does not.
    ("POST", "/api/webhooks/twilio/status/"): (everyone(403), lambda ctx, actor: {}),
    ("POST", "/api/webhooks/twilio/inbound/"): (everyone(403), lambda ctx, actor: {}),
    ("GET", "/api/webhooks/whatsapp/"): (everyone(403), None),
    ("POST", "/api/webhooks/whatsapp/"): (everyone(403), lambda ctx, actor: {}),
    ("GET", "/api/bookings/"): (signed_in(200), None),
    ("POST", "/api/bookings/"): (
        row(401, 201, 201, 403, 403, 403, 201, 403),
        lambda ctx, actor: {
            "service": ctx["service"].pk,
            "staff": ctx["staff"].pk,
            "start": FREE_START,
            **({"customer": ctx["customer"].pk} if actor.endswith("manager") else {}),
        },
    ),
    ("GET", "/api/bookings/{id}/"): (row(401, 200, 404, 200, 404, 404, 200, 404), None),
    ("PATCH", "/api/bookings/{id}/"): (
        row(401, 403, 404, 200, 404, 404, 200, 404),
        lambda ctx, actor: {"status": "confirmed"},
    ),
    ("PUT", "/api/bookings/{id}/"): (everyone(405), lambda ctx, actor: {"status": "cancelled"}),
    ("DELETE", "/api/bookings/{id}/"): (everyone(405), None),
    # The waiting list: customers join for themselves; the entry (the customer's) is
    # seen by them and their salon's manager only; only the customer claims its offer.
    ("GET", "/api/waitlist/"): (signed_in(200), None),
    ("POST", "/api/waitlist/"): (
        row(401, 201, 201, 403, 403, 403, 403, 403),
        lambda ctx, actor: {
            "service": ctx["service"].pk,
            "date": "2026-03-01",
            "window_start": "09:00",
            "window_end": "12:00",
        },
    ),
    ("GET", "/api/waitlist/{id}/"): (row(401, 200, 404, 404, 404, 404, 200, 404), None),
    ("DELETE", "/api/waitlist/{id}/"): (row(401, 204, 404, 404, 404, 404, 204, 404), None),
    ("POST", "/api/waitlist/{id}/claim/"): (
        row(401, 201, 404, 404, 404, 404, 403, 404),
        lambda ctx, actor: {"start": OFFERED_START},
    ),
    # Closures and time off: the salon's managers only.
    ("POST", "/api/closures/"): (
        row(401, 403, 403, 403, 403, 403, 201, 403),
        lambda ctx, actor: {"salon": ctx["service"].salon_id, "start_date": "2026-03-05", "end_date": "2026-03-05"},
    ),
    ("POST", "/api/time-off/"): (
        row(401, 403, 403, 403, 403, 403, 201, 403),
        lambda ctx, actor: {"staff": ctx["staff"].pk, "start": "2026-03-05T09:00", "end": "2026-03-05T12:00"},
    ),
}


def _path(template: str, ctx) -> str:
    ids = {
        "/api/salons/{id}/": ctx["service"].salon_id,
        "/api/services/{id}/": ctx["service"].pk,
        "/api/staff/{id}/": ctx["staff"].pk,
        "/api/bookings/{id}/": ctx["booking"].pk,
        "/api/waitlist/{id}/": ctx["entry"].pk,
        "/api/waitlist/{id}/claim/": ctx["entry"].pk,
    }
    path = template.replace("{id}", str(ids.get(template, "")))
    if template == "/api/availability/":
        path += f"?salon={ctx['service'].salon_id}&service={ctx['service'].pk}&date=2026-03-01"
    return path


@pytest.fixture
def ctx(now):
    service = ServiceFactory()
    staff = StaffFactory(salon=service.salon, services=[service])
    elsewhere = ServiceFactory()
    people = {
        "customer": UserFactory(),
        "other_customer": UserFactory(),
        "staff": staff,
        "other_staff": StaffFactory(salon=service.salon, services=[service]),
        "foreign_staff": StaffFactory(salon=elsewhere.salon, services=[elsewhere]),
        "manager": ManagerFactory(salon=service.salon),
        "foreign_manager": ManagerFactory(salon=elsewhere.salon),
    }
    booking = BookingFactory(
        service=service,
        staff=staff,
        customer=people["customer"],
        start=Booking._meta.get_field("start").to_python("2026-03-01T10:00:00+03:00"),
    )
    # The customer waits for the evening; 17:00 was freed and offered to them.
    entry = WaitlistEntry.objects.create(
        customer=people["customer"],
        salon=service.salon,
        service=service,
        date=date(2026, 3, 1),
        window_start=time(16),
        window_end=time(20),
        status="offered",
    )
    freed = BookingFactory(service=service, staff=staff, start=parse_datetime(OFFERED_START), status="cancelled")
    WaitlistOffer.objects.create(
        entry=entry,
        freed_booking=freed,
        staff=staff,
        start=parse_datetime(OFFERED_START),
        valid_from=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    return {
        **people,
        "people": people,
        "service": service,
        "booking": booking,
        "entry": entry,
        "fresh_phone": "0559876543",
        "refresh": {actor: str(RefreshToken.for_user(user)) for actor, user in people.items()},
    }


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("method", "template"), list(MATRIX))
def test_permission_matrix(api, ctx, method, template, actor):
    expected, body = MATRIX[(method, template)]
    api.as_user(ctx["people"].get(actor))
    path = _path(template, ctx)
    data = body(ctx, actor) if body else None

    call = getattr(api, method.lower())
    response = call(path, HTTP_ACCEPT="*/*") if method == "GET" else call(path, data)

    assert response.status_code == expected[actor], (method, path, actor, response.content[:300])


def test_every_endpoint_has_a_row():
    served = {
        (method, path.replace("{pk}", "{id}"))
        for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints()
        if path.startswith("/api/")
    }

    missing = served - set(MATRIX)

    assert not missing, f"endpoints without a row in the permission matrix: {sorted(missing)}"
