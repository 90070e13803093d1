"""A disruption notice on WhatsApp: three other times and "Cancel" as buttons; a tap
moves the booking (the rescheduled message answers), a time taken meanwhile gets
the free times now and the link, "Cancel" cancels. The fake WhatsApp server plays
the customer."""

from datetime import datetime

import pytest

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import RIYADH, ManagerFactory, StaffFactory, UserFactory
from apps.notifications.replies import read_reply_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://api.salon.example"


@pytest.fixture
def closed_day(api, now, meta, haircut):
    """Sara has one booking on 2026-03-02 at 10:00 (Chris, English, WhatsApp); the salon closes that day."""
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], name="Sara", preferred_channel="whatsapp")
    customer = UserFactory(name="Chris", preferred_language="en", preferred_channel="whatsapp")
    body = {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-02T10:00:00+03:00"}
    booking = Booking.objects.get(pk=api.as_user(customer).post("/api/bookings/", body).json()["id"])
    manager = ManagerFactory(salon=haircut.salon)
    closure = {"salon": haircut.salon_id, "start_date": "2026-03-02", "end_date": "2026-03-02", "reason": "Eid"}
    assert api.as_user(manager).post("/api/closures/", closure).status_code == 201
    return booking, customer, stylist


def _notice(meta, customer):
    message = meta.last_template_to(customer.phone)
    assert message["template"]["name"] == "booking_disrupted_customer"
    return message, meta.button_payloads(message)


def test_the_notice_carries_three_times_and_cancel_and_a_tap_moves_the_booking(api, now, meta, webhook, closed_day):
    booking, customer, stylist = closed_day
    message, payloads = _notice(meta, customer)
    variables = [p["text"] for p in message["template"]["components"][0]["parameters"]]
    actions = [read_reply_token(p).action for p in payloads]
    assert actions == ["move", "move", "move", "cancel"]
    assert variables[:4] == ["Haircut", "Main Salon", "2026-03-02 10:00", "Eid"]
    assert variables[4] == "2026-03-01 20:30 (Sara)"  # the nearest free time: the evening before
    staff_messages = [m for m in meta.messages_to(stylist.phone) if m["template"]["name"].startswith("booking_d")]
    assert len(staff_messages) == 1

    chosen = read_reply_token(payloads[0])
    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=payloads[0], label="1"))

    booking.refresh_from_db()
    assert (booking.start, booking.staff_id, booking.status) == (chosen.start, chosen.staff_id, BookingStatus.PENDING)
    assert meta.last_template_to(customer.phone)["template"]["name"] == "booking_rescheduled_customer"


def test_a_time_taken_meanwhile_is_answered_with_the_free_times_now(api, now, meta, webhook, closed_day, haircut):
    booking, customer, _ = closed_day
    _, payloads = _notice(meta, customer)
    taken = read_reply_token(payloads[0])
    other = UserFactory()
    body = {"service": haircut.pk, "staff": taken.staff_id, "start": taken.start.isoformat()}
    assert api.as_user(other).post("/api/bookings/", body).status_code == 201

    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=payloads[0], label="1"))

    booking.refresh_from_db()
    assert booking.start == datetime(2026, 3, 2, 10, 0, tzinfo=RIYADH)
    (answer,) = meta.texts_to(customer.phone)
    assert answer.startswith("Sorry, that time was just taken. Free times now: 2026-03-01 ")
    assert "https://api.salon.example/d/" in answer
    assert taken.start.astimezone(RIYADH).strftime("%Y-%m-%d %H:%M (Sara)") not in answer


def test_cancel_from_the_notice_cancels(api, now, meta, webhook, closed_day):
    booking, customer, _ = closed_day
    _, payloads = _notice(meta, customer)

    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=payloads[3], label="Cancel"))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert meta.last_template_to(customer.phone)["template"]["name"] == "booking_cancelled_customer"


def test_with_no_other_time_nearby_the_buttons_ask_for_other_times(api, now, meta, webhook, haircut, settings):
    settings.DISRUPTION_SEARCH_DAYS = 0  # only the closed day itself: nothing to offer
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], name="Sara")
    customer = UserFactory(name="Chris", preferred_language="en", preferred_channel="whatsapp")
    body = {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-02T10:00:00+03:00"}
    booking = Booking.objects.get(pk=api.as_user(customer).post("/api/bookings/", body).json()["id"])
    closure = {"salon": haircut.salon_id, "start_date": "2026-03-02", "end_date": "2026-03-02"}
    assert api.as_user(ManagerFactory(salon=haircut.salon)).post("/api/closures/", closure).status_code == 201
    message, payloads = _notice(meta, customer)
    variables = [p["text"] for p in message["template"]["components"][0]["parameters"]]

    assert variables[3:] == ["the salon is closed", "—", "—", "—"]
    assert [read_reply_token(p).action for p in payloads] == ["other_times"] * 3 + ["cancel"]
    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=payloads[1], label="2"))

    (answer,) = meta.texts_to(customer.phone)
    assert answer.startswith(
        "Free times for your booking at Main Salon: none nearby, please call the salon. Choose one or cancel: "
        "https://api.salon.example/d/"
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
