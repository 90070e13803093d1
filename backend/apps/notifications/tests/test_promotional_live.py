"""The promotional rules on a live stack whose clock libfaketime sets: gunicorn, a
Celery worker and beat over Redis, PostgreSQL, a fake Unifonic server.

A customer without consent completes a visit: no thank-you, every service message
goes. With consent on SMS, a visit completed at 21:30 salon time: the thank-you
goes at 09:00 the next day (beat's sweep hands it over), from the -AD sender, as a
promotional message, with the opt-out link; the link's page withdraws consent and
the next visit's thank-you is skipped.

Skipped without PostgreSQL, Redis and libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

import re
import time
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_unifonic import FakeUnifonic
from apps.common.tests.live import free_port, wait_for
from apps.notifications.models import MarketingConsent, Notification, NotificationStatus, SkipReason

pytestmark = pytest.mark.services


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=RIYADH)


class Client:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, user, body=None) -> httpx.Response:
        token = RefreshToken.for_user(user).access_token
        token.set_exp(lifetime=timedelta(days=30))  # still valid on the stack's clock, days ahead
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=30)

    def book(self, customer, haircut, stylist, start: datetime) -> int:
        body = {"service": haircut.pk, "staff": stylist.pk, "start": start.isoformat()}
        response = self.call("POST", "/api/bookings/", customer, body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def confirm(self, stylist, booking_id: int) -> None:
        response = self.call("PATCH", f"/api/bookings/{booking_id}/", stylist, {"status": "confirmed"})
        assert response.status_code == 200, response.text

    def complete(self, stylist, booking_id: int) -> None:
        response = self.call("PATCH", f"/api/bookings/{booking_id}/", stylist, {"status": "completed"})
        assert response.status_code == 200, response.text


def _thank_you(booking_id: int) -> Notification:
    return Notification.objects.get(booking_id=booking_id, event="booking_completed")


def test_consent_the_window_the_ad_sender_and_the_opt_out_link_on_a_live_stack(stack, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="ar")
    customer = UserFactory(preferred_language="en")
    day = date.today() + timedelta(days=3)
    clock = fake_clock(_at(day - timedelta(days=1), 10))
    port = free_port()
    with FakeUnifonic() as unifonic:
        env = stack.env(
            unifonic,
            clock.env(),
            NOTIFICATION_PROVIDER="unifonic",
            SMS_PROMOTIONAL_SENDER_ID="SALON-AD",
            PORT=str(port),  # the opt-out link points at this server (no PUBLIC_BASE_URL)
            NOTIFICATION_SWEEP_INTERVAL_SECONDS="5",
        )
        stack.worker(env)
        stack.beat(env)
        api = Client(stack.web(env, port=port))

        # 1. No consent: every service message goes, the thank-you does not.
        first = api.book(customer, haircut, stylist, _at(day, 20))
        api.confirm(stylist, first)
        service = Notification.objects.filter(booking_id=first)
        # Created and confirmed, to the customer and the stylist, all out before the clock moves on.
        wait_for(lambda: service.filter(status=NotificationStatus.SENT).count() == 4, timeout=60, what="all sent")
        clock.set(_at(day, 21, 30))
        api.complete(stylist, first)
        wait_for(lambda: _thank_you(first).status == NotificationStatus.SKIPPED, timeout=30, what="skipped")
        assert _thank_you(first).reason == SkipReason.NO_CONSENT
        assert {(m["SenderID"], m["MessageType"]) for m in unifonic.to(customer.phone)} == {("SALON", "3")}

        # 2. Consent on SMS; a visit completed at 21:30 salon time.
        assert api.call("POST", "/api/me/consents/", customer, {"channel": "sms", "granted": True}).status_code == 201
        second = api.book(customer, haircut, stylist, _at(day + timedelta(days=1), 20))
        api.confirm(stylist, second)
        clock.set(_at(day + timedelta(days=1), 21, 30))
        api.complete(stylist, second)
        held = wait_for(
            lambda: Notification.objects.filter(booking_id=second, event="booking_completed").first(),
            timeout=30,
            what="the thank-you written",
        )
        assert held.status == NotificationStatus.PENDING
        assert held.claimed_until.astimezone(RIYADH) == _at(day + timedelta(days=2), 9)
        sent_before = len(unifonic.to(customer.phone))

        clock.set(_at(day + timedelta(days=1), 23, 0))  # night: beat sweeps every 5 s, nothing goes
        time.sleep(8)
        assert _thank_you(second).status == NotificationStatus.PENDING
        assert len(unifonic.to(customer.phone)) == sent_before
        clock.set(_at(day + timedelta(days=2), 8, 59, 50))
        wait_for(lambda: _thank_you(second).status == NotificationStatus.SENT, timeout=90, what="sent at 09:00")

        thank_you = _thank_you(second)
        assert thank_you.sent_at.astimezone(RIYADH).hour == 9
        promotional = [m for m in unifonic.to(customer.phone) if m["MessageType"] == "5"]
        assert len(unifonic.to(customer.phone)) == sent_before + 1 and len(promotional) == 1
        (message,) = promotional
        assert message["SenderID"] == "SALON-AD"
        link = re.search(r" Opt out: (http://\S+/u/\S+)$", message["Body"]).group(1)
        assert urlsplit(link).port == port

        # 3. The link's page withdraws consent on every channel.
        with httpx.Client(timeout=30) as browser:
            page = browser.get(link)
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            done = browser.post(link, data={"csrfmiddlewaretoken": csrf}, headers={"Referer": link})
        assert page.status_code == 200 and done.status_code == 200 and 'id="done"' in done.text
        latest = MarketingConsent.objects.filter(user=customer, channel="sms").first()
        assert (latest.granted, latest.source) == (False, "sms_link")

        # 4. The next visit's thank-you is skipped.
        third = api.book(customer, haircut, stylist, _at(day + timedelta(days=2), 20))
        api.confirm(stylist, third)
        clock.set(_at(day + timedelta(days=2), 21, 0))
        api.complete(stylist, third)
        wait_for(lambda: _thank_you(third).status == NotificationStatus.SKIPPED, timeout=30, what="skipped again")
        assert _thank_you(third).reason == SkipReason.NO_CONSENT
    assert len([m for m in unifonic.to(customer.phone) if m["MessageType"] == "5"]) == 1
