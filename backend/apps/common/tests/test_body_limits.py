"""How large a request body may be: provider webhooks take the large batches
providers send (WEBHOOK_MAX_BODY_SIZE, 3 MiB by default), the rest of the API keeps
its small limit (DATA_UPLOAD_MAX_MEMORY_SIZE, 64 KiB); beyond either, a JSON 413."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from apps.common.tests.factories import BookingFactory, NotificationFactory
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

PUBLIC = "https://api.salon.example"
WHATSAPP = "/api/webhooks/whatsapp/"
TWILIO_STATUS = "/api/webhooks/twilio/status/"
KIB = 1024


@pytest.fixture
def secrets_set(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.WHATSAPP_APP_SECRET = "meta-app-secret"
    return settings


def _status(wamid: str, status: str, at: int) -> dict:
    """One status as Meta writes it, with its conversation and pricing (about 400 bytes)."""
    return {
        "id": wamid,
        "status": status,
        "timestamp": str(at),
        "recipient_id": "966550000000",
        "conversation": {
            "id": f"CONVERSATION_{wamid[-12:]}",
            "expiration_timestamp": str(at + 86400),
            "origin": {"type": "utility"},
        },
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"},
    }


def _meta_batch(statuses: list[dict]) -> dict:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "PNID"}, "statuses": statuses}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }


def _signed(raw: bytes, secret: str = "meta-app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _batch_of_size(size: int, last: list[dict]) -> bytes:
    """A compact Meta batch of about ``size`` bytes: statuses of other messages of the
    business account first, ``last`` at the very end (a truncated read loses them)."""
    others = []
    while True:
        raw = json.dumps(_meta_batch(others + last), separators=(",", ":")).encode()
        if len(raw) >= size:
            return raw
        others.extend(_status(f"wamid.OTHER{len(others) + n:012d}", "delivered", 1772341200) for n in range(100))


@pytest.fixture
def whatsapp_sent(now):
    rows = []
    for n in range(5):
        row = NotificationFactory(
            booking=BookingFactory(), status="sent", channel="whatsapp", provider="whatsapp_cloud"
        )
        row.provider_message_id = f"wamid.OURS{n}"
        row.save()
        rows.append(row)
    return rows


def test_a_900_kib_signed_meta_batch_is_accepted_and_its_statuses_recorded(api, secrets_set, whatsapp_sent):
    ours = [_status(row.provider_message_id, "read", 1772341300) for row in whatsapp_sent]
    raw = _batch_of_size(900 * KIB, ours)
    statuses = len(json.loads(raw)["entry"][0]["changes"][0]["value"]["statuses"])

    response = api.client.post(WHATSAPP, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(raw))

    assert 900 * KIB <= len(raw) < 1024 * KIB and statuses > 2000
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"received": statuses}
    recorded = Notification.objects.filter(pk__in=[row.pk for row in whatsapp_sent])
    assert [(row.delivery_status, row.read_at.timestamp()) for row in recorded] == [("read", 1772341300)] * 5


def test_the_same_body_to_the_rest_of_the_api_is_a_413(api, secrets_set, customer):
    raw = _batch_of_size(900 * KIB, [])

    booking = api.as_user(customer).client.post(
        "/api/bookings/", raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(raw)
    )
    just_over = api.client.post("/api/bookings/", b" " * (64 * KIB + 1), content_type="application/json")

    assert booking.status_code == 413 and booking.json()["code"] == "request_too_large"
    assert just_over.status_code == 413 and just_over.json()["code"] == "request_too_large"


def test_a_webhook_body_over_the_webhook_limit_is_a_json_413_and_records_nothing(api, secrets_set, whatsapp_sent):
    secrets_set.WEBHOOK_MAX_BODY_SIZE = 256 * KIB
    ours = [_status(row.provider_message_id, "read", 1772341300) for row in whatsapp_sent]
    fits, over = _batch_of_size(200 * KIB, ours), _batch_of_size(260 * KIB, ours)

    refused = api.client.post(WHATSAPP, over, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(over))

    assert refused.status_code == 413 and refused.json()["code"] == "request_too_large"
    assert not Notification.objects.filter(delivery_status="read").exists()
    accepted = api.client.post(WHATSAPP, fits, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_signed(fits))
    assert accepted.status_code == 200
    assert Notification.objects.filter(delivery_status="read").count() == 5


def test_a_large_signed_twilio_report_is_read_within_the_webhook_limit(api, secrets_set, now):
    row = NotificationFactory(booking=BookingFactory(), status="sent", provider_message_id="SM123")
    params = {
        "MessageSid": "SM123",
        "MessageStatus": "delivered",
        "AccountSid": "AC123",
        "To": "+966550000000",
        "Padding": "x" * (100 * KIB),  # over the API's 64 KiB; Twilio signs every parameter
    }
    signature = RequestValidator("twilio-secret").compute_signature(f"{PUBLIC}{TWILIO_STATUS}", params)
    body = urlencode(params)

    response = api.client.post(
        TWILIO_STATUS, body, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )
    secrets_set.WEBHOOK_MAX_BODY_SIZE = 64 * KIB
    refused = api.client.post(
        TWILIO_STATUS, body, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 204, response.content[:300]
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert refused.status_code == 413 and refused.json()["code"] == "request_too_large"


def test_a_twilio_body_of_another_type_still_reads_as_no_parameters(api, secrets_set):
    response = api.client.post(TWILIO_STATUS, {"MessageSid": "SM1"}, content_type="application/json")

    assert response.status_code == 403 and response.json()["code"] == "invalid_signature"
