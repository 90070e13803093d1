"""GET /api/me/export/: everything we hold about the person logged in, and nothing of anyone else."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.common.tests.factories import BookingFactory, NotificationFactory, UserFactory
from apps.notifications.models import InboundMessage, Notification
from apps.privacy.models import DataRequest
from apps.privacy.selectors import EXPORT_SECTIONS
from apps.privacy.tests.conftest import PHONE
from apps.privacy.tests.helpers import validate_against_schema

pytestmark = pytest.mark.django_db


def test_the_export_holds_their_profile_bookings_every_message_both_ways_and_their_requests(api, world, client):
    customer = world.customer
    api.as_user(customer).post("/api/me/data-requests/", {"kind": "correction", "details": "Spell my name Kris."})
    api.as_user(customer).post("/api/me/consents/", {"channel": "whatsapp", "granted": True})

    answer = api.as_user(customer).get("/api/me/export/")

    assert answer.status_code == 200
    document = answer.json()
    assert list(document) == [
        "profile", "bookings", "messages", "inbound_messages", "consents", "data_requests", "generated_at"
    ]  # fmt: skip
    assert document["profile"]["phone"] == PHONE and document["profile"]["name"] == "Chris"
    assert [b["id"] for b in document["bookings"]] == [world.past.pk, world.future.pk]
    assert document["bookings"][0] | {"note": "Sensitive scalp", "status": "completed"} == document["bookings"][0]
    assert document["bookings"][1]["salon_name"] == "Main Salon" and document["bookings"][1]["staff_name"] == "Sara"
    theirs = Notification.objects.filter(recipient=customer).order_by("created_at", "id")
    assert len(theirs) == 4
    assert [(m["id"], m["event"], m["channel"], m["text"], m["status"]) for m in document["messages"]] == [
        (row.pk, row.event, row.channel, row.message, row.status) for row in theirs
    ]
    assert "Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00." in [
        m["text"] for m in document["messages"]
    ]
    assert all(m["created_at"] and m["sent_at"] and m["phone"] == PHONE for m in document["messages"])
    assert [(m["id"], m["text"]) for m in document["inbound_messages"]] == [
        (world.inbound.pk, "Can I come at 09:30 instead?")
    ]
    assert [(c["channel"], c["granted"], c["source"]) for c in document["consents"]] == [
        ("sms", True, "api"),  # before the thank-you of the past visit
        ("whatsapp", True, "api"),
    ]
    assert all(c["wording"].startswith("I agree to receive offers") and c["version"] for c in document["consents"])
    kinds = [r["kind"] for r in document["data_requests"]]
    assert kinds == ["correction", "export"]  # this export is logged, and listed
    assert timezone.datetime.fromisoformat(document["generated_at"]) == timezone.now()
    validate_against_schema(client, "GET", "/api/me/export/", answer)


def test_an_export_holds_nothing_of_anyone_else(api, world):
    document = api.as_user(world.other).get("/api/me/export/").json()

    assert [b["id"] for b in document["bookings"]] == [world.other_booking.pk]
    assert {m["phone"] for m in document["messages"]} == {world.other.phone}
    assert document["inbound_messages"] == []
    text = str(document)
    assert PHONE not in text and "Chris" not in text and "Can I come" not in text


def test_messages_from_their_number_before_they_had_an_account_are_theirs(api, world):
    InboundMessage.objects.create(
        provider="twilio", provider_message_id="SM-early", channel="sms", phone=PHONE, text="Hello?", outcome="stored"
    )

    document = api.as_user(world.customer).get("/api/me/export/").json()

    assert [m["text"] for m in document["inbound_messages"]] == ["Can I come at 09:30 instead?", "Hello?"]


def test_each_export_is_logged_as_an_answered_request(api, world):
    api.as_user(world.customer).get("/api/me/export/")

    logged = DataRequest.objects.get(user=world.customer)
    assert (logged.kind, logged.completed_at, logged.handled_by) == ("export", timezone.now(), None)
    assert logged.due_at == logged.received_at + timedelta(days=30)


def test_anonymous_cannot_export(api, db):
    assert api.as_user(None).get("/api/me/export/").status_code == 401


def test_exports_are_limited_per_person(api, world):
    """DATA_EXPORT_RATE, 10 an hour by default: each export reads everything and is logged."""
    statuses = [api.as_user(world.customer).get("/api/me/export/").status_code for _ in range(11)]
    other = api.as_user(world.other).get("/api/me/export/").status_code

    assert statuses == [200] * 10 + [429] and other == 200
    assert DataRequest.objects.filter(user=world.customer, kind="export").count() == 10


def _person_with(bookings: int, messages_per_booking: int, stylist, haircut, *, from_day: int):
    person = UserFactory()
    for n in range(bookings):
        start = timezone.now() + timedelta(days=from_day, minutes=40 * n)  # one chair: never overlapping
        booking = BookingFactory(service=haircut, staff=stylist, customer=person, start=start)
        for move in range(messages_per_booking):
            NotificationFactory(
                booking=booking, recipient=person, event="booking_rescheduled", sequence=move, status="sent"
            )
    InboundMessage.objects.create(
        provider="twilio", provider_message_id=f"SM{person.pk}", channel="sms", phone=person.phone, user=person,
        text="Hi", outcome="stored",
    )  # fmt: skip
    return person


def test_an_export_costs_the_same_queries_for_one_booking_or_fifty(api, now, stylist, haircut):
    def export_counting(person) -> tuple[int, dict]:
        api.as_user(person)
        with CaptureQueriesContext(connection) as queries:
            answer = api.get("/api/me/export/")
        assert answer.status_code == 200
        return len(queries), answer.json()

    small, small_doc = export_counting(_person_with(1, 1, stylist, haircut, from_day=1))
    large, large_doc = export_counting(_person_with(50, 6, stylist, haircut, from_day=2))

    assert (len(small_doc["bookings"]), len(small_doc["messages"])) == (1, 1)
    assert (len(large_doc["bookings"]), len(large_doc["messages"])) == (50, 300)
    assert small == large
    # The user (authentication), the logged request, then one query per section.
    expected = 2 + len(EXPORT_SECTIONS)
    assert large - _transaction_statements(large_doc) == expected


def _transaction_statements(_document) -> int:
    # SAVEPOINT and RELEASE around the service's transaction inside the test's own.
    return 2 if connection.features.uses_savepoints else 0


def test_a_message_filed_under_someone_elses_booking_does_not_name_it(api, world):
    # A waiting list offer is filed under the freed booking, another customer's.
    offer = NotificationFactory(booking=world.other_booking, recipient=world.customer, event="waitlist_offer")

    messages = api.as_user(world.customer).get("/api/me/export/").json()["messages"]

    by_id = {m["id"]: m["booking_id"] for m in messages}
    assert by_id[offer.pk] is None
    assert {by_id[m.pk] for m in Notification.objects.filter(recipient=world.customer).exclude(pk=offer.pk)} <= {
        world.past.pk,
        world.future.pk,
    }
