"""Each provider adapter, driven by a booking creation, against a fake HTTP server.

The fake (respx) checks the exact request shared/providers.md describes and
answers with the provider's real success and error bodies. No test reaches the
internet: respx refuses any request it was not told about.
"""

import base64
import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from apps.common.tests.factories import UserFactory
from apps.notifications.models import Notification, NotificationStatus
from apps.notifications.replies import read_reply_token

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"
TWILIO = "https://twilio.test"
TWILIO_SEND = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages.json"
UNIFONIC_SEND = "https://unifonic.test/rest/SMS/messages"
TAQNYAT_SEND = "https://taqnyat.test/v1/messages"
WHATSAPP_SEND = "https://graph.test/v21.0/1098765/messages"


@pytest.fixture
def network():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def configured(settings):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "twilio-secret"
    settings.TWILIO_FROM = "SALON"
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    settings.TWILIO_BASE_URL = TWILIO
    settings.UNIFONIC_APP_SID = "unifonic-app-sid"
    settings.UNIFONIC_SENDER_ID = "SALON"
    settings.UNIFONIC_BASE_URL = "https://unifonic.test"
    settings.TAQNYAT_TOKEN = "taqnyat-token"
    settings.TAQNYAT_SENDER = "SALON"
    settings.TAQNYAT_BASE_URL = "https://taqnyat.test"
    settings.WHATSAPP_TOKEN = "meta-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1098765"
    settings.WHATSAPP_API_VERSION = "v21.0"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    return settings


def _book(api, customer, haircut, stylist):
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": START}
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _form(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


# --- 1. exact requests, message ids stored --------------------------------------------
def test_twilio_sms(api, now, configured, network, customer, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "twilio"
    route = network.post(TWILIO_SEND).mock(
        side_effect=[
            httpx.Response(201, json={"sid": "SMaaa", "status": "queued"}),
            httpx.Response(201, json={"sid": "SMbbb", "status": "queued"}),
        ]
    )

    booking_id = _book(api, customer, haircut, stylist)

    first = route.calls[0].request
    assert first.method == "POST"
    assert first.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:twilio-secret").decode()
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(first) == {
        "To": customer.phone,
        "From": "SALON",
        "Body": "Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00.",
    }
    ids = set(Notification.objects.filter(booking_id=booking_id).values_list("provider_message_id", flat=True))
    assert ids == {"SMaaa", "SMbbb"}


def test_twilio_whatsapp_uses_the_content_template(api, now, configured, network, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "twilio"
    configured.TWILIO_CONTENT_SIDS = {"booking_created_customer:ar": "HXarabic"}
    configured.PUBLIC_BASE_URL = "https://api.salon.example"
    arabic = UserFactory(preferred_language="ar", preferred_channel="whatsapp")
    route = network.post(TWILIO_SEND).mock(return_value=httpx.Response(201, json={"sid": "SMwa", "status": "queued"}))

    _book(api, arabic, haircut, stylist)

    whatsapp = next(_form(c.request) for c in route.calls if _form(c.request)["To"].startswith("whatsapp:"))
    assert whatsapp["To"] == f"whatsapp:{arabic.phone}"
    assert whatsapp["From"] == "whatsapp:+14155238886"
    assert whatsapp["ContentSid"] == "HXarabic"
    variables = json.loads(whatsapp["ContentVariables"])
    assert [variables[key] for key in ("1", "2", "3")] == ["قص الشعر", "الصالون الرئيسي", "2026-03-01 10:00"]
    # Then the quick replies' ids: signed tokens for "I'll be there" and "Cancel".
    assert [read_reply_token(variables[key]).action for key in ("4", "5")] == ["keep", "cancel"]
    assert "Body" not in whatsapp
    assert whatsapp["StatusCallback"] == "https://api.salon.example/api/webhooks/twilio/status/"


def test_unifonic(api, now, configured, network, customer, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "unifonic"
    route = network.post(UNIFONIC_SEND).mock(
        return_value=httpx.Response(
            200,
            json={
                "success": "true",
                "message": "",
                "errorCode": "ER-00",
                "data": {"MessageID": 3200017889310, "Status": "Queued", "NumberOfUnits": 1, "Cost": 0.05},
            },
        )
    )

    booking_id = _book(api, customer, haircut, stylist)

    form = _form(route.calls[0].request)
    assert form == {
        "AppSid": "unifonic-app-sid",
        "SenderID": "SALON",
        "Recipient": customer.phone.lstrip("+"),
        "Body": "Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00.",
        "MessageType": "3",  # a service message (KSA classification)
        "responseType": "JSON",
    }
    row = Notification.objects.get(booking_id=booking_id, recipient=customer)
    assert (row.status, row.provider, row.provider_message_id) == ("sent", "unifonic", "3200017889310")


def test_unifonic_accepts_boolean_success(api, now, configured, network, customer, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "unifonic"
    network.post(UNIFONIC_SEND).mock(
        return_value=httpx.Response(200, json={"success": True, "data": {"MessageID": 42}})
    )

    booking_id = _book(api, customer, haircut, stylist)

    assert Notification.objects.get(booking_id=booking_id, recipient=customer).provider_message_id == "42"


def test_taqnyat(api, now, configured, network, customer, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "taqnyat"
    route = network.post(TAQNYAT_SEND).mock(
        return_value=httpx.Response(201, json={"statusCode": 201, "messageId": 7781, "cost": "0.05"})
    )

    booking_id = _book(api, customer, haircut, stylist)

    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer taqnyat-token"
    assert json.loads(request.content) == {
        "recipients": [customer.phone.lstrip("+")],
        "body": "Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00.",
        "sender": "SALON",
    }
    assert Notification.objects.get(booking_id=booking_id, recipient=customer).provider_message_id == "7781"


class _AnyToken(str):
    """Equal to any reply token (they carry a signature; their contents are checked apart)."""

    def __eq__(self, other):
        return read_reply_token(other) is not None

    __hash__ = str.__hash__


ANY_TOKEN = _AnyToken("any reply token")


def test_whatsapp_cloud_sends_the_template_in_the_recipients_language(api, now, configured, network, haircut, stylist):
    configured.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    configured.OTP_PROVIDER = "console"  # SMS (the staff member's default) stays on the console
    english = UserFactory(preferred_language="en", preferred_channel="whatsapp")
    route = network.post(WHATSAPP_SEND).mock(
        return_value=httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": english.phone.lstrip("+"), "wa_id": english.phone.lstrip("+")}],
                "messages": [{"id": "wamid.HBgLOTY2NTU="}],
            },
        )
    )

    booking_id = _book(api, english, haircut, stylist)

    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer meta-token"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": english.phone.lstrip("+"),
        "type": "template",
        "template": {
            "name": "booking_created_customer",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Haircut"},
                        {"type": "text", "text": "Main Salon"},
                        {"type": "text", "text": "2026-03-01 10:00"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": ANY_TOKEN}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": ANY_TOKEN}],
                },
            ],
        },
    }
    buttons = json.loads(request.content)["template"]["components"][1:]
    assert [read_reply_token(b["parameters"][0]["payload"]).action for b in buttons] == ["keep", "cancel"]
    row = Notification.objects.get(booking_id=booking_id, recipient=english)
    assert (row.channel, row.provider, row.provider_message_id) == ("whatsapp", "whatsapp_cloud", "wamid.HBgLOTY2NTU=")
    staff_row = Notification.objects.get(booking_id=booking_id, recipient=stylist)
    assert (staff_row.channel, staff_row.provider, staff_row.status) == ("sms", "console", "sent")


# --- 2. transient vs permanent errors ---------------------------------------------------
TRANSIENT = [
    ("twilio", TWILIO_SEND, httpx.Response(503, json={"code": 20500, "message": "Service unavailable"}), "20500"),
    ("twilio", TWILIO_SEND, httpx.Response(429, json={"code": 20429, "message": "Too Many Requests"}), "20429"),
    ("unifonic", UNIFONIC_SEND, httpx.Response(500, text="upstream error"), "500"),
    ("taqnyat", TAQNYAT_SEND, httpx.Response(429, json={"message": "rate limited"}), "429"),
    (
        "whatsapp_cloud",
        WHATSAPP_SEND,
        httpx.Response(429, json={"error": {"message": "Rate limit hit", "type": "OAuthException", "code": 130429}}),
        "130429",
    ),
]
PERMANENT = [
    (
        "twilio",
        TWILIO_SEND,
        httpx.Response(400, json={"code": 21211, "message": "The 'To' number is not a valid phone number."}),
        "[21211] The 'To' number is not a valid phone number.",
    ),
    (
        "unifonic",
        UNIFONIC_SEND,
        httpx.Response(482, json={"success": "false", "message": "Invalid destination", "errorCode": "ER-02"}),
        "[ER-02] Invalid destination",
    ),
    ("taqnyat", TAQNYAT_SEND, httpx.Response(400, json={"message": "Invalid sender"}), "[400] Invalid sender"),
    (
        "whatsapp_cloud",
        WHATSAPP_SEND,
        httpx.Response(
            400,
            json={
                "error": {
                    "message": "(#131026) Message undeliverable",
                    "type": "OAuthException",
                    "code": 131026,
                    "error_data": {"details": "Message Undeliverable."},
                }
            },
        ),
        "[131026] Message Undeliverable.",
    ),
]


def _deliver_one(provider, url, answer, configured, network, haircut, stylist, customer):
    from apps.common.tests.factories import BookingFactory, NotificationFactory
    from apps.notifications.delivery.sending import notification_deliver

    configured.NOTIFICATION_PROVIDER = provider
    channel = "whatsapp" if provider == "whatsapp_cloud" else "sms"
    row = NotificationFactory(
        booking=BookingFactory(service=haircut, staff=stylist, customer=customer),
        channel=channel,
        provider=provider,
        template="booking_created_customer",
        language="en",
        variables=["Haircut", "Main Salon", "2026-03-01 10:00"],
    )
    if isinstance(answer, Exception):
        network.post(url).mock(side_effect=answer)
    else:
        network.post(url).mock(return_value=answer)
    outcome = notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    return outcome, row


@pytest.mark.parametrize(("provider", "url", "answer", "code"), TRANSIENT)
def test_transient_errors_retry(now, configured, network, haircut, stylist, customer, provider, url, answer, code):
    outcome, row = _deliver_one(provider, url, answer, configured, network, haircut, stylist, customer)

    assert outcome.retry_in is not None
    assert row.status == NotificationStatus.PENDING
    assert f"[{code}]" in row.reason


@pytest.mark.parametrize(("provider", "url", "answer", "reason"), PERMANENT)
def test_permanent_errors_fail_with_the_providers_code(
    now, configured, network, haircut, stylist, customer, provider, url, answer, reason
):
    outcome, row = _deliver_one(provider, url, answer, configured, network, haircut, stylist, customer)

    assert outcome.retry_in is None
    assert row.status == NotificationStatus.FAILED
    assert row.reason == reason


@pytest.mark.parametrize(
    ("provider", "url"),
    [
        ("twilio", TWILIO_SEND),
        ("unifonic", UNIFONIC_SEND),
        ("taqnyat", TAQNYAT_SEND),
        ("whatsapp_cloud", WHATSAPP_SEND),
    ],
)
def test_a_timeout_is_transient_for_every_provider(now, configured, network, haircut, stylist, customer, provider, url):
    outcome, row = _deliver_one(
        provider, url, httpx.ReadTimeout("slow"), configured, network, haircut, stylist, customer
    )

    assert outcome.retry_in is not None and "timed out" in row.reason


def test_the_suite_cannot_reach_the_internet():
    with pytest.raises(httpx.ConnectError, match="must not reach the network"):
        httpx.get("http://192.0.2.1/", timeout=1)
