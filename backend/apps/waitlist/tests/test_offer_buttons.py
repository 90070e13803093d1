"""Waiting list offers on WhatsApp: "Book it" from the message, the first tap wins,
the others are told it was taken in their language, a late tap that the offer
expired. The fake WhatsApp server plays the customers (as in test_replies.py)."""

from datetime import timedelta

import pytest

from apps.bookings.models import Booking
from apps.common.tests.factories import StaffFactory, UserFactory
from apps.notifications.models import InboundMessage, InboundOutcome, Notification
from apps.notifications.replies import read_reply_token
from apps.waitlist.models import WaitlistEntry, WaitlistStatus

pytestmark = pytest.mark.django_db(transaction=True)

TEN = "2026-03-01T10:00:00+03:00"


@pytest.fixture
def stylist(haircut):
    return StaffFactory(salon=haircut.salon, services=[haircut], name="Sara", preferred_channel="whatsapp")


def _waiting(api, haircut, languages):
    people = [UserFactory(preferred_language=lang, preferred_channel="whatsapp") for lang in languages]
    for person in people:
        body = {"service": haircut.pk, "date": "2026-03-01", "window_start": "09:00", "window_end": "12:00"}
        assert api.as_user(person).post("/api/waitlist/", body).status_code == 201
    return people


def _cancelled_ten(api, haircut, stylist) -> Booking:
    customer = UserFactory(preferred_channel="whatsapp")
    response = api.as_user(customer).post("/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": TEN})
    booking = Booking.objects.get(pk=response.json()["id"])
    assert api.as_user(customer).patch(f"/api/bookings/{booking.pk}/", {"status": "cancelled"}).status_code == 200
    return booking


def _book_it(meta, person):
    message = meta.last_template_to(person.phone)
    (payload,) = meta.button_payloads(message)
    assert read_reply_token(payload).action == "book"
    return message, payload


def test_book_it_books_the_first_and_tells_the_others_it_was_taken(api, now, meta, webhook, haircut, stylist):
    people = _waiting(api, haircut, ["en", "ar"])
    freed = _cancelled_ten(api, haircut, stylist)
    first_message, first = _book_it(meta, people[0])
    _, second = _book_it(meta, people[1])
    assert first_message["template"]["name"] == "waitlist_offer_customer"
    variables = [p["text"] for p in first_message["template"]["components"][0]["parameters"]]
    assert variables == ["Haircut", "Main Salon", "2026-03-01 10:00", "Sara", "15"]

    meta.deliver(webhook, meta.press_button(sender=people[1].phone, payload=second, label="احجزه"))
    meta.deliver(webhook, meta.press_button(sender=people[0].phone, payload=first, label="Book it"))

    booking = Booking.objects.exclude(pk=freed.pk).get()
    assert booking.customer == people[1] and booking.start == freed.start
    assert meta.last_template_to(people[1].phone)["template"]["name"] == "booking_created_customer"
    assert meta.texts_to(people[0].phone) == ["Sorry, that time was just taken. You are still on the waiting list."]
    assert WaitlistEntry.objects.get(customer=people[0]).status == WaitlistStatus.WAITING
    inbound = {row.user_id: row for row in InboundMessage.objects.all()}
    assert (inbound[people[1].pk].action, inbound[people[1].pk].outcome) == ("book", InboundOutcome.DONE)
    assert inbound[people[1].pk].booking == booking
    assert inbound[people[0].pk].outcome == InboundOutcome.REFUSED


def test_a_late_tap_is_told_the_offer_expired_in_arabic(api, now, meta, webhook, haircut, stylist):
    (person,) = _waiting(api, haircut, ["ar"])
    _cancelled_ten(api, haircut, stylist)
    _, payload = _book_it(meta, person)
    now.shift(timedelta(minutes=16))

    meta.deliver(webhook, meta.press_button(sender=person.phone, payload=payload, label="احجزه"))

    assert Booking.objects.filter(customer=person).count() == 0
    assert meta.texts_to(person.phone) == ["عذراً، انتهت مهلة هذا العرض. ما زلت على قائمة الانتظار."]


def test_someone_elses_book_it_does_nothing(api, now, meta, webhook, haircut, stylist):
    (person,) = _waiting(api, haircut, ["en"])
    _cancelled_ten(api, haircut, stylist)
    _, payload = _book_it(meta, person)
    stranger = UserFactory(preferred_channel="whatsapp")

    meta.deliver(webhook, meta.press_button(sender=stranger.phone, payload=payload, label="Book it"))

    assert Booking.objects.filter(status="pending").count() == 0
    assert InboundMessage.objects.get().outcome == InboundOutcome.IGNORED
    assert meta.texts_to(stranger.phone) == []
    assert Notification.objects.filter(event="reply_answer").count() == 0
