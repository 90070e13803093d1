"""A late WhatsApp failure through the live stack: gunicorn, a Celery worker over
Redis, PostgreSQL, the fake WhatsApp and Twilio servers. The provider accepts the
message, then reports it undeliverable to our webhook, signed; the customer has
the same message by SMS within 30 seconds, exactly once, and the channel learns.

Skipped without PostgreSQL and Redis (a failure under SALON_REQUIRE_SERVICES=1).
"""

import time
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.common.tests.fake_whatsapp import FakeWhatsApp
from apps.common.tests.live import wait_for
from apps.notifications.models import Notification, NotificationStatus, Reroute

pytestmark = pytest.mark.services


@pytest.fixture
def people(postgres):
    haircut = ServiceFactory(salon__name="Main Salon")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="ar")
    customer = UserFactory(preferred_language="en", preferred_channel="whatsapp")
    return haircut, stylist, customer


def _book(base: str, customer, haircut, stylist, hour: int) -> int:
    tomorrow = (timezone.now() + timedelta(days=1)).astimezone(RIYADH).date()
    start = datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, 0, tzinfo=RIYADH)
    token = RefreshToken.for_user(customer).access_token
    response = httpx.post(
        f"{base}/api/bookings/",
        json={"service": haircut.pk, "staff": stylist.pk, "start": start.isoformat()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _sent_row(booking_id: int, customer) -> Notification:
    """The customer's message about the booking, once a worker has sent it."""
    rows = Notification.objects.filter(booking_id=booking_id, recipient=customer, fallback_of=None)
    return wait_for(
        lambda: rows.filter(status=NotificationStatus.SENT).first(), timeout=30, what="the customer's message sent"
    )


def test_meta_reports_131026_and_the_customer_gets_one_sms_then_sms_first_until_they_write(stack, people):
    haircut, stylist, customer = people
    with FakeWhatsApp() as meta, FakeTwilio() as twilio:
        env = stack.env(meta, twilio, NOTIFICATION_PROVIDER="whatsapp_cloud", NOTIFICATION_SMS_PROVIDER="twilio")
        stack.worker(env)
        base = stack.web(env)
        hook = f"{base}/api/webhooks/whatsapp/"

        first = _sent_row(_book(base, customer, haircut, stylist, 10), customer)
        assert first.channel == "whatsapp" and len(meta.messages_to(customer.phone)) == 1
        report = meta.status(message_id=first.provider_message_id, status="failed", code=131026, title="Undeliverable")
        reported_at = time.monotonic()
        assert meta.deliver(hook, report).status_code == 200

        wait_for(lambda: twilio.sms_to(customer.phone), timeout=30, what="the SMS in place of the WhatsApp message")
        assert time.monotonic() - reported_at < 30
        assert [meta.deliver(hook, report).status_code for _ in range(3)] == [200] * 3
        time.sleep(3)  # time for a second SMS, were one coming
        assert [r.body for r in twilio.sms_to(customer.phone)] == [first.message]
        assert Notification.objects.filter(fallback_of=first).count() == 1

        second = _sent_row(_book(base, customer, haircut, stylist, 11), customer)
        assert (second.channel, second.reroute) == ("sms", Reroute.WHATSAPP_UNREACHABLE)
        assert len(meta.messages_to(customer.phone)) == 1  # no WhatsApp call

        assert meta.deliver(hook, meta.write(sender=customer.phone, text="Hello")).status_code == 200
        third = _sent_row(_book(base, customer, haircut, stylist, 12), customer)
        assert (third.channel, third.reroute) == ("whatsapp", "")
        assert len(meta.messages_to(customer.phone)) == 2
    assert len(twilio.sms_to(customer.phone)) == 2


def test_twilio_reports_63003_and_the_customer_gets_one_sms_then_sms_first_until_they_write(stack, people):
    haircut, stylist, customer = people
    with FakeTwilio() as twilio:
        env = stack.env(twilio, NOTIFICATION_PROVIDER="twilio", TWILIO_WHATSAPP_FROM="+14155238886")
        stack.worker(env)
        base = stack.web(env)
        callback = f"{base}/api/webhooks/twilio/status/"

        first = _sent_row(_book(base, customer, haircut, stylist, 10), customer)
        assert first.channel == "whatsapp" and len(twilio.whatsapp_to(customer.phone)) == 1
        reported_at = time.monotonic()
        answer = twilio.post_status(callback, sid=first.provider_message_id, status="undelivered", error_code="63003")
        assert answer.status_code == 204

        wait_for(lambda: twilio.sms_to(customer.phone), timeout=30, what="the SMS in place of the WhatsApp message")
        assert time.monotonic() - reported_at < 30
        repeats = [
            twilio.post_status(callback, sid=first.provider_message_id, status="undelivered", error_code="63003")
            for _ in range(3)
        ]
        assert [r.status_code for r in repeats] == [204] * 3
        time.sleep(3)
        assert [r.body for r in twilio.sms_to(customer.phone)] == [first.message]

        second = _sent_row(_book(base, customer, haircut, stylist, 11), customer)
        assert (second.channel, second.reroute) == ("sms", Reroute.WHATSAPP_UNREACHABLE)
        assert len(twilio.whatsapp_to(customer.phone)) == 1

        inbound = {"From": f"whatsapp:{customer.phone}", "To": "whatsapp:+14155238886", "Body": "Hello"}
        assert twilio.post_inbound(f"{base}/api/webhooks/twilio/inbound/", inbound).status_code == 204
        third = _sent_row(_book(base, customer, haircut, stylist, 12), customer)
        assert third.channel == "whatsapp"
        assert len(twilio.whatsapp_to(customer.phone)) == 2
