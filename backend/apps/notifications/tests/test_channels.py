"""Channel choice per person, WhatsApp-to-SMS fallback, opt-out, and secrets kept out of logs."""

import json
import logging
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from apps.accounts.models import User
from apps.common.tests.factories import UserFactory
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"
TWILIO_SEND = "https://twilio.test/2010-04-01/Accounts/AC123/Messages.json"
WHATSAPP_SEND = "https://graph.test/v21.0/1098765/messages"
UNDELIVERABLE = httpx.Response(
    400,
    json={
        "error": {
            "message": "(#131026) Message undeliverable",
            "type": "OAuthException",
            "code": 131026,
            "error_data": {"details": "Message Undeliverable."},
            "fbtrace_id": "AbC",
        }
    },
)


@pytest.fixture
def providers(settings):
    settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    settings.NOTIFICATION_SMS_PROVIDER = "twilio"
    settings.WHATSAPP_TOKEN = "meta-token-secret"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1098765"
    settings.WHATSAPP_API_VERSION = "v21.0"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "twilio-token-secret"
    settings.TWILIO_FROM = "SALON"
    settings.TWILIO_BASE_URL = "https://twilio.test"
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def _book(api, customer, haircut, stylist, start=START):
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": start}
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _sms_bodies(route) -> list[dict]:
    return [{k: v[0] for k, v in parse_qs(c.request.content.decode()).items()} for c in route.calls]


def test_preferred_channel_is_readable_and_writable_at_me(api, customer):
    client = api.as_user(customer)

    changed = client.patch("/api/me/", {"preferred_channel": "whatsapp"})
    refused = client.patch("/api/me/", {"preferred_channel": "pigeon"})

    assert changed.status_code == 200 and changed.json()["preferred_channel"] == "whatsapp"
    assert refused.status_code == 400
    assert User.objects.get(pk=customer.pk).preferred_channel == "whatsapp"


def test_arabic_whatsapp_customer_gets_the_arabic_template(api, now, providers, haircut, stylist):
    arabic = UserFactory(preferred_language="ar", preferred_channel="whatsapp")
    whatsapp = providers.post(WHATSAPP_SEND).mock(
        return_value=httpx.Response(200, json={"messages": [{"id": "wamid.AR"}]})
    )
    providers.post(TWILIO_SEND).mock(return_value=httpx.Response(201, json={"sid": "SMstaff"}))

    _book(api, arabic, haircut, stylist)

    template = json.loads(whatsapp.calls[0].request.content)["template"]
    assert template["name"] == "booking_created_customer" and template["language"] == {"code": "ar"}
    assert [p["text"] for p in template["components"][0]["parameters"]] == [
        "قص الشعر",
        "الصالون الرئيسي",
        "2026-03-01 10:00",
    ]


def test_whatsapp_refused_for_good_falls_back_to_exactly_one_sms(api, now, providers, haircut, stylist):
    customer = UserFactory(preferred_language="en", preferred_channel="whatsapp")
    providers.post(WHATSAPP_SEND).mock(return_value=UNDELIVERABLE)
    sms = providers.post(TWILIO_SEND).mock(side_effect=[httpx.Response(201, json={"sid": f"SM{n}"}) for n in range(5)])

    booking_id = _book(api, customer, haircut, stylist)

    rows = Notification.objects.filter(booking_id=booking_id, recipient=customer).order_by("id")
    assert [(r.channel, r.status) for r in rows] == [("whatsapp", "failed"), ("sms", "sent")]
    assert rows[0].reason == "[131026] Message Undeliverable."
    to_customer = [body for body in _sms_bodies(sms) if body["To"] == customer.phone]
    assert len(to_customer) == 1
    assert to_customer[0]["Body"] == "Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00."


def test_a_transient_whatsapp_error_does_not_fall_back(now, providers, haircut, stylist):
    from apps.common.tests.factories import BookingFactory, NotificationFactory
    from apps.notifications.delivery.sending import notification_deliver

    customer = UserFactory(preferred_channel="whatsapp")
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    row = NotificationFactory(
        booking=booking,
        channel="whatsapp",
        provider="whatsapp_cloud",
        template="booking_created_customer",
        language="en",
    )
    providers.post(WHATSAPP_SEND).mock(return_value=httpx.Response(503, json={"error": {"code": 2, "message": "x"}}))

    notification_deliver(notification_id=row.pk)

    assert Notification.objects.filter(booking=booking).count() == 1


def test_after_a_stop_the_next_event_is_skipped_as_opted_out(api, now, providers, haircut, stylist):
    customer = UserFactory(preferred_channel="sms")
    sms = providers.post(TWILIO_SEND).mock(
        side_effect=lambda request: (
            httpx.Response(400, json={"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
            if parse_qs(request.content.decode())["To"][0] == customer.phone
            else httpx.Response(201, json={"sid": "SMstaff"})
        )
    )
    booking_id = _book(api, customer, haircut, stylist)
    first = Notification.objects.get(booking_id=booking_id, recipient=customer)
    assert first.status == "failed" and first.reason.startswith("opted_out")
    assert User.objects.get(pk=customer.pk).sms_opted_out is True
    calls_before = len([b for b in _sms_bodies(sms) if b["To"] == customer.phone])

    confirmed = api.as_user(stylist).patch(f"/api/bookings/{booking_id}/", {"status": "confirmed"})

    assert confirmed.status_code == 200
    row = Notification.objects.get(booking_id=booking_id, recipient=customer, event="booking_confirmed")
    assert (row.status, row.reason) == ("skipped", "opted_out")
    assert len([b for b in _sms_bodies(sms) if b["To"] == customer.phone]) == calls_before


def test_opting_back_in_at_me_sends_again(api, now, providers, haircut, stylist):
    customer = UserFactory(sms_opted_out=True)
    providers.post(TWILIO_SEND).mock(return_value=httpx.Response(201, json={"sid": "SMok"}))

    assert api.as_user(customer).patch("/api/me/", {"sms_opted_out": False}).json()["sms_opted_out"] is False
    booking_id = _book(api, customer, haircut, stylist)

    assert Notification.objects.get(booking_id=booking_id, recipient=customer).status == "sent"


def test_no_secret_reaches_the_logs_or_the_admin(api, client, now, providers, haircut, stylist, caplog):
    caplog.set_level(logging.DEBUG)
    customer = UserFactory(preferred_channel="whatsapp")
    providers.post(WHATSAPP_SEND).mock(return_value=UNDELIVERABLE)
    providers.post(TWILIO_SEND).mock(return_value=httpx.Response(401, json={"code": 20003, "message": "Authenticate"}))
    booking_id = _book(api, customer, haircut, stylist)
    admin = User.objects.create_superuser(phone="+966509999999", password="pw-for-tests-only")
    client.force_login(admin)

    pages = [client.get("/admin/notifications/notification/").content.decode()] + [
        client.get(f"/admin/notifications/notification/{pk}/change/").content.decode()
        for pk in Notification.objects.filter(booking_id=booking_id).values_list("pk", flat=True)
    ]

    logs = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("meta-token-secret", "twilio-token-secret"):
        assert secret not in logs
        assert all(secret not in page for page in pages)
    assert "131026" in logs  # the failure itself is logged


def test_each_reminder_refused_on_whatsapp_falls_back_to_its_own_sms(now, providers, haircut, stylist):
    from apps.common.tests.factories import BookingFactory, NotificationFactory
    from apps.notifications.delivery.sending import notification_deliver

    customer = UserFactory(preferred_language="en", preferred_channel="whatsapp")
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    reminders = [
        NotificationFactory(
            booking=booking,
            recipient=customer,
            event="booking_reminder",
            reminder_offset_minutes=offset,
            channel="whatsapp",
            provider="whatsapp_cloud",
            template="booking_reminder_customer",
            language="en",
            message=f"Reminder {offset}",
        )
        for offset in (1440, 120)
    ]
    providers.post(WHATSAPP_SEND).mock(return_value=UNDELIVERABLE)
    sms = providers.post(TWILIO_SEND).mock(side_effect=[httpx.Response(201, json={"sid": f"SM{n}"}) for n in range(5)])

    for reminder in reminders:
        notification_deliver(notification_id=reminder.pk)
    for fallback in Notification.objects.filter(booking=booking, channel="sms").order_by("id"):
        notification_deliver(notification_id=fallback.pk)

    fallbacks = Notification.objects.filter(booking=booking, channel="sms").order_by("id")
    assert [(r.reminder_offset_minutes, r.status) for r in fallbacks] == [(1440, "sent"), (120, "sent")]
    assert [body["Body"] for body in _sms_bodies(sms)] == ["Reminder 1440", "Reminder 120"]
