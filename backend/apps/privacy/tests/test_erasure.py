"""DELETE /api/me/: a customer's data erased, their bookings' history kept anonymous."""

import logging
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.accounts.models import OneTimeCode, User
from apps.bookings.models import Booking
from apps.bookings.services import booking_create
from apps.common.tests.factories import BookingFactory, ManagerFactory, NotificationFactory, UserFactory
from apps.notifications.models import DeliveryAttempt, InboundMessage, Notification, NotificationEvent, SkipReason
from apps.privacy.models import DataRequest
from apps.privacy.services import ACCOUNT_CLOSED
from apps.privacy.tests.conftest import PHONE, log_in
from apps.privacy.tests.helpers import places_holding, text_columns

pytestmark = pytest.mark.django_db


def _bearer(api, token: str):
    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def test_a_customer_erases_their_data_and_the_salon_keeps_an_anonymous_history(api, world, caplog, now):
    customer, stylist = world.customer, world.stylist
    tokens = log_in(api, caplog, PHONE)
    OneTimeCode.objects.create(phone=PHONE, code_hash="x" * 64, expires_at=world.future.created_at)
    before = places_holding(PHONE)
    assert {"accounts.User.phone holds +966539871402", "notifications.Notification.phone holds +966539871402"} <= set(
        before
    )
    assert "notifications.InboundMessage.phone holds 966539871402" in before
    assert "accounts.OneTimeCode.phone holds +966539871402" in before
    about_them = Notification.objects.filter(recipient=stylist, booking__customer=customer)
    staff_rows_before = set(about_them.values_list("pk", flat=True))

    with caplog.at_level(logging.INFO, logger="salon.messages"):
        caplog.clear()
        answer = _bearer(api, tokens["access"]).delete("/api/me/")

    assert answer.status_code == 204, answer.content
    # Their tokens stop working at once: the access token on the very next request, and the refresh token.
    assert _bearer(api, tokens["access"]).get("/api/me/").status_code == 401
    api.client.credentials()
    assert api.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert (
        OutstandingToken.objects.filter(user=customer).count()
        == BlacklistedToken.objects.filter(token__user=customer).count()
        > 0
    )

    # The future booking is cancelled; the staff member heard it as any cancellation, the customer nothing.
    future = Booking.objects.get(pk=world.future.pk)
    assert (future.status, future.cancellation_reason, future.note) == ("cancelled", ACCOUNT_CLOSED, "")
    cancelled = Notification.objects.filter(booking=future, event=NotificationEvent.BOOKING_CANCELLED)
    assert [(row.recipient_id, row.status) for row in cancelled] == [(stylist.pk, "sent")]
    staff_line = [r.getMessage() for r in caplog.records if r.name == "salon.messages"]
    assert len(staff_line) == 1 and staff_line[0].startswith(f"OTP SMS to 0{stylist.phone[4:]}: تم إلغاء موعد عميل")
    assert "Chris" not in cancelled.get().message

    # The past visit stays, anonymous; the account stays without name, phone or password.
    person = User.objects.get(pk=customer.pk)
    assert (person.phone, person.name, person.is_active, person.has_usable_password()) == (None, "", False, False)
    past = Booking.objects.get(pk=world.past.pk)
    assert (past.status, past.customer_id, past.note) == ("completed", customer.pk, "")

    # The texts to and from them are gone; the staff's copies (which named them) too; statistics stay.
    theirs = Notification.objects.filter(recipient=customer)
    assert theirs.count() == 4  # created, confirmed, completed (past); created (future)
    assert set(theirs.values_list("message", "phone", "status")) == {("", "", "sent")}
    assert all(row.event and row.channel and row.sent_at for row in theirs)
    staff_copies = Notification.objects.filter(pk__in=staff_rows_before)
    assert staff_copies.count() == 3  # the visit's created and confirmed, the future booking's created
    assert set(staff_copies.values_list("message", "phone")) == {("", stylist.phone)}
    assert Notification.objects.filter(booking=world.other_booking, recipient=stylist).get().message != ""
    inbound = InboundMessage.objects.get(pk=world.inbound.pk)
    assert (inbound.text, inbound.phone, inbound.outcome) == ("", "", "stored")
    assert not OneTimeCode.objects.filter(phone=PHONE).exists()
    erasure = DataRequest.objects.get(user=customer, kind="erasure")
    assert erasure.completed_at is not None and erasure.details == ""

    # The phone is nowhere: every text, char and JSON column of every table was looked at.
    assert len(text_columns()) > 40
    assert places_holding(PHONE) == []

    # The other customer is untouched.
    other = User.objects.get(pk=world.other.pk)
    assert other.is_active and other.phone and Notification.objects.filter(recipient=other).exclude(message="").count()

    # A new login with the same phone is a new, empty account.
    now.shift(timedelta(minutes=2))
    again = log_in(api, caplog, PHONE)
    assert again["user_created"] is True
    bookings = _bearer(api, again["access"]).get("/api/bookings/")
    assert bookings.status_code == 200 and bookings.json()["results"] == []
    export = _bearer(api, again["access"]).get("/api/me/export/").json()
    assert export["bookings"] == [] and export["messages"] == [] and export["profile"]["id"] != customer.pk


def test_the_staff_members_list_shows_the_cancelled_booking_without_the_customer(api, world, caplog):
    tokens = log_in(api, caplog, PHONE)
    assert _bearer(api, tokens["access"]).delete("/api/me/").status_code == 204

    listing = api.as_user(world.stylist).get("/api/bookings/").json()["results"]

    rows = {row["id"]: row for row in listing}
    assert rows[world.future.pk]["status"] == "cancelled"
    assert rows[world.future.pk]["customer_name"] == "" and rows[world.past.pk]["customer_name"] == ""
    assert PHONE not in str(listing) and "Chris" not in str(listing)


@pytest.mark.parametrize("kind", ["staff", "manager", "superuser"])
def test_staff_managers_and_admins_are_refused_and_nothing_changes(api, world, kind):
    person = {
        "staff": world.stylist,
        "manager": ManagerFactory(salon=world.stylist.salon),
        "superuser": UserFactory(is_superuser=True, is_staff=True),
    }[kind]
    messages_before = list(Notification.objects.filter(recipient=person).values_list("message", flat=True))

    answer = api.as_user(person).delete("/api/me/")

    assert answer.status_code == 403
    assert answer.json()["code"] == "erasure_not_for_staff"
    person.refresh_from_db()
    assert person.is_active and person.phone and person.name
    assert list(Notification.objects.filter(recipient=person).values_list("message", flat=True)) == messages_before
    assert not DataRequest.objects.filter(user=person).exists()
    assert Booking.objects.get(pk=world.future.pk).status == "pending"


def test_anonymous_cannot_erase(api, db):
    assert api.as_user(None).delete("/api/me/").status_code == 401


def test_messages_still_waiting_are_skipped_not_sent_with_an_empty_text(
    world, haircut, django_capture_on_commit_callbacks, caplog
):
    customer, stylist = world.customer, world.stylist
    with django_capture_on_commit_callbacks(execute=False) as publishes:  # the booking committed, not yet sent
        waiting = booking_create(
            actor=customer, service_id=haircut.pk, staff_id=stylist.pk, start=world.future.start + timedelta(hours=3)
        )
    assert set(waiting.notifications.values_list("status", flat=True)) == {"pending"}
    from apps.privacy.services import person_erase

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(user=customer)
    caplog.set_level(logging.INFO, logger="salon.messages")
    for publish in publishes:
        publish()  # the late publish of the booking's own messages

    rows = Notification.objects.filter(booking=waiting, event=NotificationEvent.BOOKING_CREATED)
    assert {(row.recipient_id, row.status, row.reason) for row in rows} == {
        (customer.pk, "skipped", SkipReason.PERSON_ERASED),
        (stylist.pk, "skipped", SkipReason.PERSON_ERASED),
    }
    assert not DeliveryAttempt.objects.filter(notification__in=rows).exists()
    sent = [r.getMessage() for r in caplog.records if r.name == "salon.messages"]
    assert len(sent) == 2 and all("تم إلغاء موعد عميل" in line for line in sent)  # the two cancellations only


def test_the_admin_history_no_longer_names_them(world, admin_client):
    customer = world.customer
    user_type = ContentType.objects.get_for_model(User)
    booking_type = ContentType.objects.get_for_model(Booking)
    admin = User.objects.get(phone="+966509999999")
    LogEntry.objects.create(
        user=admin, content_type=user_type, object_id=str(customer.pk), object_repr=str(customer), action_flag=CHANGE
    )
    LogEntry.objects.create(
        user=admin,
        content_type=booking_type,
        object_id=str(world.past.pk),
        object_repr=f"#{world.past.pk} Haircut, Chris",
        action_flag=CHANGE,
    )
    LogEntry.objects.create(
        user=admin, content_type=None, object_id="", object_repr=f"note about 0{PHONE[4:]}", action_flag=CHANGE
    )
    from apps.privacy.services import person_erase

    person_erase(user=customer)

    reprs = sorted(LogEntry.objects.values_list("object_repr", flat=True))
    assert reprs == sorted([f"erased person #{customer.pk}", f"booking #{world.past.pk}", "note about ***"])


def test_an_erasure_costs_the_same_queries_whatever_the_number_of_past_bookings_and_messages(
    api, now, haircut, stylist
):
    def customer_with_history(visits: int) -> User:
        customer = UserFactory(preferred_language="en")
        for day in range(1, visits + 1):
            booking = BookingFactory(
                service=haircut,
                staff=stylist,
                customer=customer,
                start=world_start(now) - timedelta(days=day),
                status="completed",
                note="a note",
            )
            for recipient in (customer, stylist):
                for event in ("booking_created", "booking_confirmed"):
                    NotificationFactory(booking=booking, recipient=recipient, event=event, status="sent")
        return customer

    def erase_counting(customer) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.as_user(customer).delete("/api/me/").status_code == 204
        return len(queries)

    few, many = customer_with_history(2), customer_with_history(20)

    assert erase_counting(few) == erase_counting(many) > 0


def world_start(now):
    from django.utils import timezone

    return timezone.now().replace(minute=0, second=0, microsecond=0)
