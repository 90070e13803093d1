"""Delivery reports and STOP replies: signatures first, then late reports never win."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from apps.accounts.models import User
from apps.common.tests.factories import BookingFactory, NotificationFactory

pytestmark = pytest.mark.django_db

PUBLIC = "https://api.salon.example"
TWILIO_STATUS = "/api/webhooks/twilio/status/"
TWILIO_INBOUND = "/api/webhooks/twilio/inbound/"
WHATSAPP = "/api/webhooks/whatsapp/"


@pytest.fixture
def secrets_set(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.WHATSAPP_APP_SECRET = "meta-app-secret"
    settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
    return settings


@pytest.fixture
def sent(now, haircut, stylist, customer):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    return NotificationFactory(booking=booking, status="sent", provider_message_id="SM123")


def _twilio(api, path, params, signature=None):
    if signature is None:
        signature = RequestValidator("twilio-secret").compute_signature(f"{PUBLIC}{path}", params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return api.client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def _report(status, sid="SM123", **extra):
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC123", "To": "+966550000000", **extra}


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSByaWdodCBzaWduYXR1cmU="])
def test_twilio_report_without_a_valid_signature_is_403_and_changes_nothing(api, secrets_set, sent, signature):
    response = _twilio(api, TWILIO_STATUS, _report("delivered"), signature=signature)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    sent.refresh_from_db()
    assert sent.delivery_status == "" and sent.delivered_at is None


def test_twilio_report_signed_for_another_url_is_refused(api, secrets_set, sent):
    params = _report("delivered")
    wrong_url = RequestValidator("twilio-secret").compute_signature(f"{PUBLIC}/elsewhere/", params)

    assert _twilio(api, TWILIO_STATUS, params, signature=wrong_url).status_code == 403


def test_twilio_delivered_then_a_late_sent_does_not_move_it_back(api, secrets_set, sent):
    assert _twilio(api, TWILIO_STATUS, _report("delivered")).status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered" and sent.delivered_at is not None

    assert _twilio(api, TWILIO_STATUS, _report("sent")).status_code == 204

    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"


def test_twilio_undelivered_records_the_error(api, secrets_set, sent):
    _twilio(api, TWILIO_STATUS, _report("undelivered", ErrorCode="30003"))

    sent.refresh_from_db()
    assert sent.delivery_status == "undelivered" and "30003" in sent.reason


def test_twilio_report_for_an_unknown_message_is_accepted_and_ignored(api, secrets_set, sent):
    assert _twilio(api, TWILIO_STATUS, _report("delivered", sid="SMunknown")).status_code == 204
    sent.refresh_from_db()
    assert sent.delivery_status == ""


def test_twilio_21610_in_a_report_opts_the_recipient_out(api, secrets_set, sent, customer):
    _twilio(api, TWILIO_STATUS, _report("failed", ErrorCode="21610"))

    customer.refresh_from_db()
    assert customer.sms_opted_out is True


@pytest.mark.parametrize(
    ("body", "sender", "field"),
    [
        ("STOP", "{phone}", "sms_opted_out"),
        (" stop ", "whatsapp:{phone}", "whatsapp_opted_out"),
        ("إيقاف", "{phone}", "sms_opted_out"),
    ],
)
def test_an_inbound_stop_opts_out_of_that_channel(api, secrets_set, customer, body, sender, field):
    params = {"From": sender.format(phone=customer.phone), "Body": body, "MessageSid": "SMin"}

    assert _twilio(api, TWILIO_INBOUND, params).status_code == 204

    customer.refresh_from_db()
    assert getattr(customer, field) is True


def test_an_unsigned_inbound_stop_changes_nothing(api, secrets_set, customer):
    _twilio(api, TWILIO_INBOUND, {"From": customer.phone, "Body": "STOP"}, signature="")

    assert User.objects.get(pk=customer.pk).sms_opted_out is False


# --- WhatsApp Cloud ----------------------------------------------------------------------
def test_whatsapp_handshake_answers_the_challenge_only_for_the_right_token(api, secrets_set):
    ok = api.get(WHATSAPP, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
    wrong = api.get(WHATSAPP, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})

    assert (ok.status_code, ok.content) == (200, b"1158201444")
    assert wrong.status_code == 403 and b"1158201444" not in wrong.content


def _statuses(*items):
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "statuses": [
                                {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": "966550000000"}
                                for wamid, status, ts in items
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _meta(api, payload, secret="meta-app-secret"):
    raw = json.dumps(payload, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return api.client.post(WHATSAPP, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


@pytest.fixture
def whatsapp_sent(sent):
    sent.channel, sent.provider, sent.provider_message_id = "whatsapp", "whatsapp_cloud", "wamid.ABC"
    sent.save()
    return sent


def test_whatsapp_report_with_a_wrong_signature_is_403(api, secrets_set, whatsapp_sent):
    response = _meta(api, _statuses(("wamid.ABC", "delivered", 1772341200)), secret="not-the-secret")

    assert response.status_code == 403
    whatsapp_sent.refresh_from_db()
    assert whatsapp_sent.delivery_status == ""


def test_whatsapp_signature_is_over_the_raw_body(api, secrets_set, whatsapp_sent):
    raw = b'{"object": "whatsapp_business_account", "entry": []}'
    signature = "sha256=" + hmac.new(b"meta-app-secret", raw.replace(b" ", b""), hashlib.sha256).hexdigest()

    response = api.client.post(WHATSAPP, raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)

    assert response.status_code == 403  # signed a re-serialised body, not the bytes sent


def test_whatsapp_read_without_delivered_and_a_late_delivered_is_ignored(api, secrets_set, whatsapp_sent):
    assert _meta(api, _statuses(("wamid.ABC", "read", 1772341260))).status_code == 200
    whatsapp_sent.refresh_from_db()
    assert whatsapp_sent.delivery_status == "read" and whatsapp_sent.read_at is not None
    assert whatsapp_sent.delivered_at is not None

    _meta(api, _statuses(("wamid.ABC", "delivered", 1772341230)))

    whatsapp_sent.refresh_from_db()
    assert whatsapp_sent.delivery_status == "read"


def test_whatsapp_reports_in_one_batch_are_applied_in_time_order(api, secrets_set, whatsapp_sent):
    response = _meta(
        api,
        _statuses(
            ("wamid.ABC", "read", 1772341300), ("wamid.ABC", "sent", 1772341200), ("wamid.ABC", "delivered", 1772341250)
        ),
    )

    assert response.json() == {"received": 3}
    whatsapp_sent.refresh_from_db()
    assert whatsapp_sent.delivery_status == "read"
    assert whatsapp_sent.delivered_at.timestamp() == 1772341250
    assert whatsapp_sent.read_at.timestamp() == 1772341300


# A signed request is trusted to come from the provider, not to be well formed:
# whatever shape it has, the answer is the documented one and never a 500 (a 500
# makes the provider retry the same report for hours).
_json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
_junk = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _or_junk(strategy):
    return strategy | _junk


_status_item = st.fixed_dictionaries(
    {},
    optional={
        "id": _or_junk(st.sampled_from(["wamid.ABC", "", "wamid.\x00"])),
        "status": _or_junk(st.sampled_from(["sent", "delivered", "read", "failed", "DELIVERED", "deleted"])),
        "timestamp": _or_junk(st.integers(min_value=-(10**20), max_value=10**20).map(str) | st.integers()),
        "errors": _or_junk(
            st.lists(_or_junk(st.fixed_dictionaries({}, optional={"code": _junk, "title": _junk})), max_size=2)
        ),
    },
)
_meta_payload = _or_junk(
    st.fixed_dictionaries(
        {},
        optional={
            "entry": _or_junk(
                st.lists(
                    _or_junk(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "changes": _or_junk(
                                    st.lists(
                                        _or_junk(
                                            st.fixed_dictionaries(
                                                {"field": _or_junk(st.just("messages"))},
                                                optional={
                                                    "value": _or_junk(
                                                        st.fixed_dictionaries(
                                                            {"statuses": _or_junk(st.lists(_or_junk(_status_item)))}
                                                        )
                                                    )
                                                },
                                            )
                                        ),
                                        max_size=2,
                                    )
                                )
                            },
                        )
                    ),
                    max_size=2,
                )
            )
        },
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_meta_payload)
@example(payload=_statuses(("wamid.\x00", "delivered", 1772341200)))
@example(payload=_statuses(("wamid.ABC", "delivered", 10**20)))
def test_any_signed_whatsapp_payload_is_answered_without_a_server_error(api, secrets_set, whatsapp_sent, payload):
    response = _meta(api, payload)

    assert response.status_code == 200, response.content
    assert isinstance(response.json()["received"], int)
    whatsapp_sent.refresh_from_db()
    assert whatsapp_sent.delivery_status in {"", "sent", "delivered", "read", "undelivered", "failed"}


_twilio_params = st.dictionaries(
    st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "From", "Body", "To"]) | st.text(max_size=8),
    st.sampled_from(["SM123", "delivered", "21610", "+966500000002", "whatsapp:+966500000002", "STOP"])
    | st.text(max_size=20),
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=_twilio_params, path=st.sampled_from([TWILIO_STATUS, TWILIO_INBOUND]))
@example(params=_report("delivered", sid="SM\x00"), path=TWILIO_STATUS)
@example(params={"From": "+96650000\x000002", "Body": "STOP"}, path=TWILIO_INBOUND)
def test_any_signed_twilio_callback_is_answered_without_a_server_error(api, secrets_set, sent, params, path):
    response = _twilio(api, path, params)

    assert response.status_code == 204, response.content
