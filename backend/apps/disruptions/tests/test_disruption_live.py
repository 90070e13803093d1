"""A closure over a day with five bookings, on a live stack whose clock libfaketime
sets: gunicorn, a Celery worker and beat over Redis, PostgreSQL, the fake WhatsApp
server playing the customers.

The manager's answer lists the five; each customer gets one message with other
times as buttons; one presses a time and is moved, one presses "Cancel"; beat
cancels the other three two hours before their start, naming the reason in each
customer's language (the reason template); the staff member got one message.

Skipped without PostgreSQL, Redis and libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

import time
from datetime import date, datetime, timedelta

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import RIYADH, ManagerFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_whatsapp import FakeWhatsApp
from apps.common.tests.live import wait_for
from apps.disruptions.models import SALON_CLOSED, BookingDisruption
from apps.notifications.replies import read_reply_token

pytestmark = pytest.mark.services


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=RIYADH)


def _call(base: str, method: str, path: str, user, body=None) -> httpx.Response:
    token = RefreshToken.for_user(user).access_token
    token.set_exp(lifetime=timedelta(days=30))  # still valid on the stack's clock, days ahead
    return httpx.request(method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _templates(meta, person, name: str) -> list[dict]:
    return [m for m in meta.messages_to(person.phone) if m["type"] == "template" and m["template"]["name"] == name]


def test_a_closure_over_five_bookings_on_a_live_stack(stack, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon", salon__name_ar="الصالون الرئيسي")
    sara = StaffFactory(
        salon=haircut.salon, services=[haircut], name="Sara", preferred_language="ar", preferred_channel="whatsapp"
    )
    manager = ManagerFactory(salon=haircut.salon)
    day = date.today() + timedelta(days=4)
    clock = fake_clock(_at(day - timedelta(days=2), 10))
    customers = [
        UserFactory(name=f"Guest{i}", preferred_language=("en", "ar")[i % 2], preferred_channel="whatsapp")
        for i in range(5)
    ]
    with FakeWhatsApp() as meta:
        env = stack.env(meta, clock.env(), NOTIFICATION_PROVIDER="whatsapp_cloud", WAITLIST_SCAN_INTERVAL_SECONDS="2")
        stack.worker(env)
        stack.beat(env)
        base = stack.web(env)
        hook = f"{base}/api/webhooks/whatsapp/"
        ids = []
        for hour, person in zip(range(10, 15), customers, strict=True):
            body = {"service": haircut.pk, "staff": sara.pk, "start": _at(day, hour).isoformat()}
            response = _call(base, "POST", "/api/bookings/", person, body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])

        # The manager closes the day: the answer lists the five.
        closure = {"salon": haircut.salon_id, "start_date": day.isoformat(), "end_date": day.isoformat()}
        answer = _call(base, "POST", "/api/closures/", manager, closure | {"reason": "Eid"})
        assert answer.status_code == 201, answer.text
        listed = answer.json()["affected_bookings"]
        assert [b["id"] for b in listed] == ids
        assert [b["cancel_at"] for b in listed] == [_at(day, h - 2).isoformat() for h in range(10, 15)]

        # Each customer: one message with three times and "Cancel"; the staff member: one message.
        notices = {}
        for person in customers:
            (notices[person.pk],) = wait_for(
                lambda p=person: _templates(meta, p, "booking_disrupted_customer"), timeout=30, what="the notice"
            )
            buttons = meta.button_payloads(notices[person.pk])
            assert [read_reply_token(b).action for b in buttons] == ["move", "move", "move", "cancel"]
        (staff_message,) = wait_for(lambda: _templates(meta, sara, "booking_disrupted_staff"), timeout=30)
        assert [p["text"] for p in staff_message["template"]["components"][0]["parameters"]][:2] == [
            "5",
            "الصالون الرئيسي",
        ]

        # One presses a time and is moved; one presses "Cancel".
        mover, canceller = customers[0], customers[1]
        move = meta.button_payloads(notices[mover.pk])[0]
        chosen = read_reply_token(move)
        meta.deliver(hook, meta.press_button(sender=mover.phone, payload=move, label="1"))
        cancel = meta.button_payloads(notices[canceller.pk])[3]
        meta.deliver(hook, meta.press_button(sender=canceller.phone, payload=cancel, label="إلغاء"))
        moved = Booking.objects.get(pk=ids[0])
        assert (moved.start, moved.staff_id, moved.status) == (chosen.start, chosen.staff_id, BookingStatus.PENDING)
        wait_for(lambda: _templates(meta, mover, "booking_rescheduled_customer"), timeout=30, what="the move told")
        assert Booking.objects.get(pk=ids[1]).status == BookingStatus.CANCELLED
        wait_for(lambda: _templates(meta, canceller, "booking_cancelled_customer"), timeout=30)

        # Nobody answered for 12:00, 13:00, 14:00: beat cancels each two hours before its start.
        clock.set(_at(day, 9, 59, 50))
        time.sleep(6)  # three scans
        assert Booking.objects.filter(pk__in=ids[2:], status=BookingStatus.PENDING).count() == 3
        clock.set(_at(day, 10, 0, 1))
        wait_for(
            lambda: Booking.objects.get(pk=ids[2]).status == BookingStatus.CANCELLED, timeout=30, what="12:00 cancelled"
        )
        assert Booking.objects.filter(pk__in=ids[3:], status=BookingStatus.PENDING).count() == 2
        wait_for(lambda: _templates(meta, customers[2], "booking_cancelled_reason_customer"), timeout=30, what="told")
        clock.set(_at(day, 12, 0, 1))
        wait_for(
            lambda: not Booking.objects.filter(pk__in=ids[3:], status=BookingStatus.PENDING).exists(),
            timeout=30,
            what="13:00 and 14:00 cancelled",
        )

        for booking_id, person in zip(ids[2:], customers[2:], strict=True):
            booking = Booking.objects.get(pk=booking_id)
            assert (booking.status, booking.cancellation_reason) == (BookingStatus.CANCELLED, SALON_CLOSED)
            (told,) = wait_for(
                lambda p=person: _templates(meta, p, "booking_cancelled_reason_customer"), timeout=30, what="told"
            )
            reason = told["template"]["components"][0]["parameters"][-1]["text"]
            assert reason == {"en": "salon closed", "ar": "الصالون مغلق"}[person.preferred_language]
            assert len(_templates(meta, person, "booking_disrupted_customer")) == 1
        outcomes = dict(BookingDisruption.objects.values_list("booking_id", "outcome"))
        assert outcomes == {
            ids[0]: "moved",
            ids[1]: "cancelled",
            ids[2]: "cancelled_by_salon",
            ids[3]: "cancelled_by_salon",
            ids[4]: "cancelled_by_salon",
        }
        assert Booking.objects.get(pk=ids[1]).cancellation_reason == ""  # the customer's own cancellation
        assert len(_templates(meta, sara, "booking_disrupted_staff")) == 1  # told once, in one message
