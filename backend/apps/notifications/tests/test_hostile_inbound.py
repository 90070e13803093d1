"""Issue #22, the inbound items: hostile webhook bodies (NUL, lone surrogates) are a 200
with each message standing alone; inbound text filed under the right salon; reply
answers bounded; STOP in its disguises; publishing that names a missing task."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from twilio.request_validator import RequestValidator

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import BookingFactory, NotificationFactory, ServiceFactory, StaffFactory, UserFactory
from apps.notifications.models import InboundMessage, Notification, NotificationStatus, SkipReason
from apps.notifications.replies import reply_token

pytestmark = pytest.mark.django_db

PUBLIC = "https://api.salon.example"


@pytest.fixture
def secrets_set(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.WHATSAPP_APP_SECRET = "meta-app-secret"
    return settings


def _meta(api, payload):
    raw = json.dumps(payload).encode()  # ensure_ascii: NUL and lone surrogates travel as \\u0000, \\ud800
    signature = "sha256=" + hmac.new(b"meta-app-secret", raw, hashlib.sha256).hexdigest()
    return api.client.post(
        "/api/webhooks/whatsapp/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
    )


def _twilio(api, params):
    signature = RequestValidator("twilio-secret").compute_signature(f"{PUBLIC}/api/webhooks/twilio/inbound/", params)
    return api.client.post(
        "/api/webhooks/twilio/inbound/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def _batch(messages=(), statuses=()):
    value = {"messaging_product": "whatsapp", "messages": list(messages), "statuses": list(statuses)}
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [change]}]}


def _text(wamid, sender, body):
    return {"from": sender, "id": wamid, "timestamp": "1772341200", "type": "text", "text": {"body": body}}


def _button(wamid, sender, payload):
    return {"from": sender, "id": wamid, "timestamp": "1772341200", "type": "button",
            "button": {"payload": payload, "text": "Cancel"}}  # fmt: skip


# 1. --------------------------------------------------------------------------------------------
META_CASES = {
    "text-nul": lambda p: _text("wamid.BAD", p, "hello\x00world"),
    "from-nul": lambda p: _text("wamid.BAD", p + "\x00", "hello"),
    "payload-nul": lambda p: _button("wamid.BAD", p, "tok\x00en"),
    "text-surrogate": lambda p: _text("wamid.BAD", p, "hello \ud800 world"),
    "id-surrogate": lambda p: _text("wamid.\ud800", p, "hello"),
}


@pytest.mark.parametrize("case", list(META_CASES))
def test_a_signed_meta_message_with_nul_or_a_lone_surrogate_is_a_200_and_the_rest_of_the_batch_counts(
    api, now, secrets_set, customer, case
):
    phone = customer.phone.lstrip("+")
    good = _text("wamid.GOOD", phone, "A question for the salon")

    response = _meta(api, _batch(messages=[META_CASES[case](phone), good]))

    assert response.status_code == 200
    stored = {row.provider_message_id: row for row in InboundMessage.objects.all()}
    assert stored["wamid.GOOD"].text == "A question for the salon"  # not undone by its neighbour
    bad = stored.get("wamid.BAD")
    if case == "id-surrogate":
        # The signed body's lone surrogates become U+FFFD as it is read: an id of no message of ours.
        assert set(stored) == {"wamid.GOOD", "wamid.\ufffd"}
    else:
        assert "\x00" not in bad.text + bad.phone + bad.button_payload
    if case == "text-surrogate":
        assert bad.text == "hello \ufffd world"


def test_a_status_whose_id_holds_a_lone_surrogate_is_skipped_and_the_others_recorded(api, now, secrets_set):
    sent = NotificationFactory(
        status="sent", channel="whatsapp", provider="whatsapp_cloud", provider_message_id="wamid.OK"
    )
    statuses = [
        {"id": "wamid.\ud800", "status": "delivered", "timestamp": "1772341200", "recipient_id": "1"},
        {"id": "wamid.OK", "status": "delivered", "timestamp": "1772341201", "recipient_id": "1"},
    ]

    response = _meta(api, _batch(statuses=statuses))

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"


@pytest.mark.parametrize("field", ["Body", "From", "ButtonPayload"])
def test_a_signed_twilio_message_with_nul_is_a_204(api, now, secrets_set, customer, field):
    params = {"MessageSid": "SMbad", "From": f"whatsapp:{customer.phone}", "Body": "hello", "ButtonPayload": ""}
    params[field] = params[field] + "\x00x"

    response = _twilio(api, params)

    assert response.status_code == 204
    row = InboundMessage.objects.get(provider_message_id="SMbad")
    assert "\x00" not in row.text + row.phone + row.button_payload


# 5. ---------------------------------------------------------------------------------------------
def test_text_is_filed_under_the_salon_of_the_message_it_answers(api, now, secrets_set):
    customer = UserFactory()
    first, second = ServiceFactory(salon__name="First"), ServiceFactory(salon__name="Second")
    at_first = BookingFactory(service=first, staff=StaffFactory(salon=first.salon, services=[first]), customer=customer)
    at_second = BookingFactory(
        service=second, staff=StaffFactory(salon=second.salon, services=[second]), customer=customer
    )
    sent_at = timezone.now()
    NotificationFactory(booking=at_first, status="sent", provider_message_id="wamid.FIRST", sent_at=sent_at)
    NotificationFactory(booking=at_second, status="sent", provider_message_id="wamid.SECOND", sent_at=sent_at)
    answer = _text("wamid.IN1", customer.phone.lstrip("+"), "Can I come earlier?")
    answer["context"] = {"from": "966110000000", "id": "wamid.FIRST"}

    _meta(api, _batch(messages=[answer, _text("wamid.IN2", customer.phone.lstrip("+"), "And parking?")]))

    replied = InboundMessage.objects.get(provider_message_id="wamid.IN1")
    assert (replied.salon_id, replied.booking_id) == (first.salon_id, at_first.pk)
    loose = InboundMessage.objects.get(provider_message_id="wamid.IN2")  # no context: the last message we sent
    assert (loose.salon_id, loose.booking_id) == (second.salon_id, at_second.pk)


def test_a_forwarded_button_pressed_by_someone_else_is_filed_without_a_salon(api, now, secrets_set, customer):
    booking = BookingFactory(customer=customer)
    stranger = UserFactory()
    payload = reply_token(booking=booking, recipient_id=customer.pk, action="cancel")

    _meta(api, _batch(messages=[_button("wamid.FWD", stranger.phone.lstrip("+"), payload)]))

    row = InboundMessage.objects.get(provider_message_id="wamid.FWD")
    assert (row.salon_id, row.booking_id, row.user_id) == (None, None, stranger.pk)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


# 9. ---------------------------------------------------------------------------------------------
def test_twenty_taps_on_one_button_get_at_most_three_answers_and_all_are_recorded(api, now, secrets_set, settings):
    settings.NOTIFICATION_PROVIDER = "console"
    customer = UserFactory(preferred_channel="whatsapp")
    booking = BookingFactory(customer=customer, status=BookingStatus.CANCELLED)
    payload = reply_token(booking=booking, recipient_id=customer.pk, action="cancel")
    phone = customer.phone.lstrip("+")

    for n in range(20):
        assert _meta(api, _batch(messages=[_button(f"wamid.TAP{n}", phone, payload)])).status_code == 200

    assert InboundMessage.objects.filter(user=customer).count() == 20
    answers = Notification.objects.filter(event="reply_answer", recipient=customer)
    assert answers.count() == 20
    assert answers.exclude(status=NotificationStatus.SKIPPED).count() == 3
    assert set(answers.filter(status=NotificationStatus.SKIPPED).values_list("reason", flat=True)) == {
        SkipReason.ANSWER_LIMIT
    }


# 10. --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("Stop\u200b", "whatsapp"),
        ("ＳＴＯＰ", "whatsapp"),
        ("إيـقاف", "whatsapp"),
        ("  sToP ", "sms"),
        ("إلغاء", "sms"),
    ],
    ids=["zero-width-space", "fullwidth", "tatweel", "case-and-spaces", "arabic-cancel-on-sms"],
)
def test_stop_in_its_disguises_opts_out(api, now, secrets_set, text, channel):
    customer = UserFactory()
    booking = BookingFactory(customer=customer)
    sender = f"whatsapp:{customer.phone}" if channel == "whatsapp" else customer.phone

    assert _twilio(api, {"MessageSid": f"SM{abs(hash(text))}", "From": sender, "Body": text}).status_code == 204

    customer.refresh_from_db()
    assert customer.opted_out_of(channel)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING  # "cancel" on SMS cancels nothing


def test_cancel_in_whatsapp_text_is_not_a_stop(api, now, secrets_set, customer):
    _twilio(api, {"MessageSid": "SMc", "From": f"whatsapp:{customer.phone}", "Body": "إلغاء"})

    assert not User.objects.get(pk=customer.pk).whatsapp_opted_out


# 12. --------------------------------------------------------------------------------------------
def test_a_missing_task_is_an_error_not_a_broker_outage(monkeypatch, caplog):
    from apps.notifications.delivery.publishing import SEND_TASK, publish_now_rollback_unsafe
    from salon_api.celery import app

    monkeypatch.delitem(app.tasks, SEND_TASK)

    with pytest.raises(KeyError):
        publish_now_rollback_unsafe(1)
    assert "sweep will retry" not in caplog.text


def test_a_skipped_fallback_sms_is_counted(now, settings, django_capture_on_commit_callbacks):
    from apps.notifications.services import notification_fall_back_to_sms

    customer = UserFactory(sms_opted_out=True)
    whatsapp = NotificationFactory(
        booking=BookingFactory(customer=customer), recipient=customer, channel="whatsapp",
        provider="whatsapp_cloud", template="booking_created_customer", status="failed",
    )  # fmt: skip
    labels = {"event": "booking_created", "channel": "sms", "provider": "console", "outcome": "skipped"}
    before = REGISTRY.get_sample_value("salon_notifications_total", labels) or 0

    with django_capture_on_commit_callbacks(execute=True):
        fallback = notification_fall_back_to_sms(notification=whatsapp, reroute="whatsapp_failed")

    assert (fallback.status, fallback.reason) == ("skipped", SkipReason.OPTED_OUT)
    assert REGISTRY.get_sample_value("salon_notifications_total", labels) == before + 1
