"""A customer with a past visit, a future booking, messages both ways and a login
code; another customer beside them: what the personal-data tests act on."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import pytest

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.common.tests.factories import RIYADH, UserFactory
from apps.notifications.inbound import IncomingMessage, inbound_message_receive
from apps.notifications.models import InboundMessage

# A number no factory makes, so that finding it anywhere means it is theirs.
PHONE = "+966539871402"


@dataclass
class World:
    customer: User
    other: User
    stylist: User
    past: Booking
    future: Booking
    other_booking: Booking
    inbound: InboundMessage


def book(api, customer, stylist, haircut, start: str, note: str = "") -> Booking:
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": start, "note": note}
    )
    assert response.status_code == 201, response.json()
    return Booking.objects.get(pk=response.json()["id"])


def set_status(api, actor, booking: Booking, status: str) -> None:
    response = api.as_user(actor).patch(f"/api/bookings/{booking.pk}/", {"status": status})
    assert response.status_code == 200, response.json()


@pytest.fixture
def world(api, now, haircut, stylist) -> World:
    customer = UserFactory(phone=PHONE, name="Chris", preferred_language="en")
    other = UserFactory(name="Dana", preferred_language="en")
    now.move_to(datetime(2026, 2, 18, 9, 0, tzinfo=RIYADH))
    past = book(api, customer, stylist, haircut, "2026-02-20T10:00:00+03:00", note="Sensitive scalp")
    set_status(api, stylist, past, "confirmed")
    # They agreed to offers by SMS, so the thank-you (a promotional message) goes too.
    assert api.as_user(customer).post("/api/me/consents/", {"channel": "sms", "granted": True}).status_code == 201
    now.move_to(datetime(2026, 2, 20, 11, 0, tzinfo=RIYADH))
    set_status(api, stylist, past, "completed")  # the thank-you
    now.move_to(datetime(2026, 2, 28, 8, 0, tzinfo=RIYADH))
    future = book(api, customer, stylist, haircut, "2026-03-01T10:00:00+03:00", note="Short, please")
    other_booking = book(api, other, stylist, haircut, "2026-03-01T12:00:00+03:00")
    inbound = inbound_message_receive(
        IncomingMessage(
            provider="whatsapp_cloud",
            provider_message_id="wamid.privacy-1",
            channel="whatsapp",
            phone=PHONE.lstrip("+"),
            text="Can I come at 09:30 instead?",
        )
    )
    return World(customer, other, stylist, past, future, other_booking, inbound)


def log_in(api, caplog, phone: str) -> dict:
    """Log in by code through the API, reading the code the console provider printed."""
    caplog.set_level(logging.INFO, logger="salon.messages")
    api.client.credentials()
    assert api.post("/api/auth/otp/request/", {"phone": phone}).status_code == 202
    line = [r.getMessage() for r in caplog.records if r.name == "salon.messages"][-1]
    code = re.search(r"\b(\d{6})\b", line).group(1)
    answer = api.post("/api/auth/otp/verify/", {"phone": phone, "code": code})
    assert answer.status_code == 200, answer.json()
    return answer.json()
