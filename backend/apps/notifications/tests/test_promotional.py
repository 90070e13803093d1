"""Saudi messaging rules: message classes, the consent ledger, the promotional window,
the -AD sender, never Twilio, the opt-out link; WhatsApp's own stop and resume.

The clock is the suite's (Saturday 2026-02-28 08:00 in Riyadh: before the
promotional window opens at 09:00); providers are faked at the HTTP layer.
"""

import itertools
import re
import subprocess
import sys
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import User
from apps.common.channels import MessageClass
from apps.common.tests.factories import RIYADH, BookingFactory, UserFactory
from apps.common.tests.live import BACKEND_DIR
from apps.notifications.consent import consent_record, has_marketing_consent
from apps.notifications.delivery.publishing import notification_sweep
from apps.notifications.models import (
    EVENT_CLASS,
    ConsentSource,
    MarketingConsent,
    Notification,
    NotificationEvent,
    NotificationStatus,
    Reroute,
    SalonNotificationSettings,
    SkipReason,
    WhatsAppTemplate,
)
from apps.notifications.promotional import optout_link, optout_token, read_optout_token
from apps.notifications.services import notify_booking_lifecycle, send_booking_notification

pytestmark = pytest.mark.django_db

UNIFONIC_SEND = "https://unifonic.test/rest/SMS/messages"
TWILIO_SEND = "https://twilio.test/2010-04-01/Accounts/AC1/Messages.json"
WHATSAPP_SEND = "https://graph.test/v21.0/1/messages"
PROMOTIONAL_EVENTS = [event for event, kind in EVENT_CLASS.items() if kind == MessageClass.PROMOTIONAL]


@pytest.fixture
def network(settings):
    """Unifonic for SMS (it may carry promotional SMS, from the -AD sender), Twilio
    configured too (it must never carry them), Meta for WhatsApp."""
    settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    settings.NOTIFICATION_SMS_PROVIDER = "unifonic"
    settings.UNIFONIC_APP_SID, settings.UNIFONIC_SENDER_ID = "sid", "SALON"
    settings.UNIFONIC_BASE_URL = "https://unifonic.test"
    settings.SMS_PROMOTIONAL_SENDER_ID = "SALON-AD"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_FROM = "AC1", "token", "SALON"
    settings.TWILIO_BASE_URL = "https://twilio.test"
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "t", "1"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    settings.PUBLIC_BASE_URL = "https://api.salon.example"
    ids = itertools.count(1)
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.post(UNIFONIC_SEND).mock(
            side_effect=lambda request: httpx.Response(
                200, json={"success": "true", "data": {"MessageID": next(ids), "NumberOfUnits": 1, "Cost": 0.05}}
            )
        )
        router.post(TWILIO_SEND).mock(return_value=httpx.Response(201, json={"sid": "SMx"}))
        router.post(WHATSAPP_SEND).mock(return_value=httpx.Response(200, json={"messages": [{"id": "wamid.P"}]}))
        yield router


def _sms_forms(network) -> list[dict]:
    calls = [c for c in network.calls if c.request.url.host == "unifonic.test"]
    return [{k: v[0] for k, v in parse_qs(c.request.content.decode()).items()} for c in calls]


def _calls_to(network, host: str) -> int:
    return sum(1 for c in network.calls if c.request.url.host == host)


@pytest.fixture
def visit(now, haircut, stylist):
    """A booking that took place this morning, and its customer (English, SMS)."""
    customer = UserFactory(preferred_language="en")
    booking = BookingFactory(
        service=haircut, staff=stylist, customer=customer, start=datetime(2026, 2, 28, 7, 0, tzinfo=RIYADH)
    )
    return booking, customer


@pytest.fixture
def outbox(django_capture_on_commit_callbacks):
    """The outbox as a booking change calls it: rows written, then delivered after commit."""

    def write(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = function(*args, **kwargs)
        for row in result if isinstance(result, list) else [result]:
            row.refresh_from_db()
        return result

    return write


def _upcoming(booking):
    """Another booking of the same customer, tomorrow: service messages about it make sense."""
    start = datetime(2026, 3, 1, 10, 0, tzinfo=RIYADH)
    return BookingFactory(service=booking.service, staff=booking.staff, customer=booking.customer, start=start)


def _thank_you(outbox, booking, recipient) -> Notification:
    return outbox(send_booking_notification, booking, recipient, NotificationEvent.BOOKING_COMPLETED)


# 1. Classes ---------------------------------------------------------------------------------
def test_every_event_has_a_class_and_the_thank_you_is_promotional():
    assert set(EVENT_CLASS) == set(NotificationEvent)
    assert EVENT_CLASS[NotificationEvent.BOOKING_COMPLETED] == MessageClass.PROMOTIONAL
    assert {EVENT_CLASS[e] for e in NotificationEvent if e != NotificationEvent.BOOKING_COMPLETED} == {
        MessageClass.SERVICE
    }


def test_each_row_stores_its_class(network, outbox, visit):
    booking, customer = visit
    consent_record(user=customer, channel="sms", granted=True, source=ConsentSource.API)
    created = outbox(notify_booking_lifecycle, booking, NotificationEvent.BOOKING_CONFIRMED)

    assert {row.message_class for row in created} == {MessageClass.SERVICE}
    assert _thank_you(outbox, booking, customer).message_class == MessageClass.PROMOTIONAL


# 2. The ledger and its API ----------------------------------------------------------------------
def test_nobody_has_consent_until_they_give_it_and_the_api_shows_the_words_in_their_language(api, customer):
    arabic = UserFactory(preferred_language="ar")

    english = api.as_user(customer).get("/api/me/consents/").json()["consents"]
    answer = api.as_user(arabic).get("/api/me/consents/")

    assert answer.status_code == 200
    assert [(c["channel"], c["granted"], c["at"]) for c in english] == [("sms", False, None), ("whatsapp", False, None)]
    assert english[0]["wording"].startswith("I agree to receive offers") and "SMS" in english[0]["wording"]
    arabic_sms = answer.json()["consents"][0]
    assert arabic_sms["wording"].startswith("أوافق") and "الرسائل النصية" in arabic_sms["wording"]
    assert arabic_sms["version"] == english[0]["version"] != ""


def test_posting_records_a_row_and_the_latest_row_is_the_state(api, now, customer):
    client = api.as_user(customer)

    given = client.post("/api/me/consents/", {"channel": "whatsapp", "granted": True})
    now.shift(timedelta(minutes=5))
    withdrawn = client.post("/api/me/consents/", {"channel": "whatsapp", "granted": False})

    assert given.status_code == withdrawn.status_code == 201
    whatsapp = withdrawn.json()["consents"][1]
    assert (whatsapp["channel"], whatsapp["granted"], whatsapp["source"]) == ("whatsapp", False, "api")
    rows = list(MarketingConsent.objects.filter(user=customer).order_by("at"))
    assert [(r.channel, r.granted, r.source, r.version) for r in rows] == [
        ("whatsapp", True, "api", whatsapp["version"]),
        ("whatsapp", False, "api", whatsapp["version"]),
    ]
    assert rows[0].wording == whatsapp["wording"]  # the exact words shown
    assert not has_marketing_consent(customer.pk, "whatsapp")


@pytest.mark.parametrize(
    "body",
    [{"channel": "pigeon", "granted": True}, {"channel": "sms", "granted": "yes"}, {"channel": "sms"}, {}],
    ids=["channel", "granted-not-boolean", "granted-missing", "empty"],
)
def test_bad_consent_input_is_a_json_400_and_records_nothing(api, customer, body):
    response = api.as_user(customer).post("/api/me/consents/", body)

    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    assert not MarketingConsent.objects.exists()


def test_nobody_reads_or_writes_another_persons_consent(api, customer):
    other = UserFactory()
    consent_record(user=other, channel="sms", granted=True, source=ConsentSource.API)

    mine = api.as_user(customer).get("/api/me/consents/").json()["consents"]
    api.as_user(customer).post("/api/me/consents/", {"channel": "sms", "granted": False, "user": other.pk})

    assert [c["granted"] for c in mine] == [False, False]  # not the other person's yes
    assert has_marketing_consent(other.pk, "sms")  # untouched
    assert api.as_user(None).get("/api/me/consents/").status_code == 401


def test_consent_rows_are_never_changed():
    row = consent_record(user=UserFactory(), channel="sms", granted=True, source=ConsentSource.API)
    row.granted = False

    with pytest.raises(ValueError, match="never changed"):
        row.save()


def test_booking_never_depends_on_consent(api, now, customer, haircut, stylist):
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-01T10:00:00+03:00"}
    )

    assert response.status_code == 201
    assert not MarketingConsent.objects.exists()


# 3. The gate, over every promotional event and channel ----------------------------------------
CASES = list(
    itertools.product(PROMOTIONAL_EVENTS, ["sms", "whatsapp"], [True, False], ["in_window", "before", "evening"])
)


@pytest.mark.parametrize(("event", "channel", "consent", "moment"), CASES)
def test_no_promotional_message_goes_without_consent_outside_the_window_through_twilio_or_without_the_link(
    network, outbox, now, settings, visit, event, channel, consent, moment
):
    booking, customer = visit
    User.objects.filter(pk=customer.pk).update(preferred_channel=channel)
    customer.refresh_from_db()
    if consent:
        consent_record(user=customer, channel=channel, granted=True, source=ConsentSource.API)
    clock = {"in_window": "2026-02-28T11:00", "before": "2026-02-28T08:00", "evening": "2026-02-28T21:30"}[moment]
    now.move_to(datetime.fromisoformat(clock).replace(tzinfo=RIYADH))

    row = outbox(send_booking_notification, booking, customer, event)
    # Hours pass; the sweep hands over whatever is due, as beat does every minute.
    for _ in range(64):
        now.shift(timedelta(minutes=15))
        notification_sweep(older_than_seconds=0)
    row.refresh_from_db()

    assert _calls_to(network, "twilio.test") == 0  # never through Twilio
    if not consent:
        assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.NO_CONSENT)
        assert _sms_forms(network) == [] and _calls_to(network, "graph.test") == 0
        return
    assert row.status == NotificationStatus.SENT
    sent_at = timezone.localtime(row.sent_at, RIYADH)
    assert 9 <= sent_at.hour < 20  # inside the promotional window, salon time
    if moment != "in_window":
        assert sent_at.hour == 9 and sent_at.minute < 5  # held to the next opening, not dropped
    if channel == "sms":
        (form,) = _sms_forms(network)
        assert form["SenderID"] == "SALON-AD" and form["MessageType"] == "5"
        assert form["Body"].endswith(f" Opt out: {optout_link(customer.pk)}")
        assert optout_link(customer.pk).startswith("https://api.salon.example/u/")


def test_a_held_message_past_24_hours_expires(network, outbox, now, visit):
    booking, customer = visit
    consent_record(user=customer, channel="sms", granted=True, source=ConsentSource.API)
    now.move_to(datetime(2026, 2, 28, 21, 30, tzinfo=RIYADH))
    row = _thank_you(outbox, booking, customer)
    assert (row.status, timezone.localtime(row.claimed_until, RIYADH).hour) == (NotificationStatus.PENDING, 9)

    now.move_to(datetime(2026, 3, 1, 22, 0, tzinfo=RIYADH))  # the sweep was down all day
    notification_sweep(older_than_seconds=0)
    row.refresh_from_db()

    assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.EXPIRED)
    assert _sms_forms(network) == []


def test_twilio_as_the_sms_provider_never_carries_a_promotional_sms(network, outbox, settings, now, visit):
    settings.NOTIFICATION_SMS_PROVIDER = "twilio"
    booking, customer = visit
    consent_record(user=customer, channel="sms", granted=True, source=ConsentSource.API)
    now.move_to(datetime(2026, 2, 28, 11, 0, tzinfo=RIYADH))

    row = _thank_you(outbox, booking, customer)
    service = outbox(send_booking_notification, _upcoming(booking), customer, NotificationEvent.BOOKING_CONFIRMED)

    assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.NO_PROMOTIONAL_ROUTE)
    assert (service.status, service.provider) == (NotificationStatus.SENT, "twilio")  # service SMS still go
    assert _calls_to(network, "twilio.test") == 1


def test_a_salon_may_narrow_the_window_never_widen_it(network, outbox, now, visit, salon):
    booking, customer = visit
    consent_record(user=customer, channel="sms", granted=True, source=ConsentSource.API)
    narrow = SalonNotificationSettings(salon=salon, promotional_start=time(12), promotional_end=time(14))
    narrow.full_clean()
    narrow.save()
    wide = SalonNotificationSettings(salon=salon, promotional_start=time(7), promotional_end=time(22))
    with pytest.raises(ValidationError, match="within 09:00-20:00"):
        wide.clean()
    now.move_to(datetime(2026, 2, 28, 11, 0, tzinfo=RIYADH))

    row = _thank_you(outbox, booking, customer)

    assert timezone.localtime(row.claimed_until, RIYADH).hour == 12


def test_service_messages_ignore_consent_and_the_window(network, outbox, now, visit):
    booking, _customer = visit  # no consent, 08:00 (before the promotional window)
    rows = outbox(notify_booking_lifecycle, _upcoming(booking), NotificationEvent.BOOKING_CONFIRMED)

    assert {row.status for row in rows} == {NotificationStatus.SENT}
    assert {f["SenderID"] for f in _sms_forms(network)} == {"SALON"}
    assert {f["MessageType"] for f in _sms_forms(network)} == {"3"}


def test_a_service_message_whose_template_meta_made_marketing_goes_by_sms(network, outbox, now, visit):
    booking, customer = visit
    User.objects.filter(pk=customer.pk).update(preferred_channel="whatsapp")
    customer.refresh_from_db()
    WhatsAppTemplate.objects.create(name="booking_confirmed_customer", language="en", category="MARKETING")

    row = outbox(send_booking_notification, _upcoming(booking), customer, NotificationEvent.BOOKING_CONFIRMED)

    assert (row.channel, row.reroute, row.status) == ("sms", Reroute.TEMPLATE_MARKETING, NotificationStatus.SENT)
    assert _calls_to(network, "graph.test") == 0


# 4. The opt-out link -------------------------------------------------------------------------
def test_the_opt_out_token_is_short_signed_and_names_one_person():
    token = optout_token(123456)

    assert read_optout_token(token) == 123456
    assert len(token) <= 14
    assert read_optout_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert read_optout_token("1" + token[1:]) is None  # another person's id with this signature
    assert read_optout_token("") is None and read_optout_token("x" * 40) is None


def test_the_opt_out_page_asks_in_the_persons_language_then_withdraws_every_channel(
    client, network, outbox, now, visit
):
    booking, customer = visit
    customer.preferred_language = "ar"
    customer.save()
    for channel in ("sms", "whatsapp"):
        consent_record(user=customer, channel=channel, granted=True, source=ConsentSource.API)
    held = _thank_you(outbox, booking, customer)  # 08:00: waiting for the window
    path = urlsplit(optout_link(customer.pk)).path

    page = client.get(path)
    body = page.content.decode()
    assert page.status_code == 200 and 'dir="rtl"' in body and 'lang="ar"' in body
    assert "إيقاف" in body and '<form method="post">' in body
    assert MarketingConsent.objects.filter(granted=False).count() == 0  # a GET changes nothing

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    done = client.post(path, {"csrfmiddlewaretoken": token})

    assert done.status_code == 200 and 'id="done"' in done.content.decode()
    latest = {c: MarketingConsent.objects.filter(user=customer, channel=c).first() for c in ("sms", "whatsapp")}
    assert {(r.granted, r.source) for r in latest.values()} == {(False, ConsentSource.SMS_LINK)}
    # The thank-you already in the outbox is not sent after that.
    now.move_to(datetime(2026, 2, 28, 9, 1, tzinfo=RIYADH))
    notification_sweep(older_than_seconds=0)
    held.refresh_from_db()
    assert (held.status, held.reason) == (NotificationStatus.SKIPPED, SkipReason.NO_CONSENT)
    assert _sms_forms(network) == []


@pytest.mark.parametrize("token", ["nonsense", "1AAAAAAAAAA", "../admin"])
def test_a_bad_opt_out_link_is_a_404(client, token):
    assert client.get(f"/u/{token}").status_code == 404


# 5. WhatsApp's own stop ------------------------------------------------------------------------
def test_error_131050_on_a_send_withdraws_whatsapp_consent(settings, now, visit):
    from apps.notifications.delivery.reports import notification_record_delivery

    booking, customer = visit
    consent_record(user=customer, channel="whatsapp", granted=True, source=ConsentSource.API)
    row = Notification.objects.create(
        booking=booking, recipient=customer, event="booking_completed", message_class="promotional",
        channel="whatsapp", provider="whatsapp_cloud", message="t", template="booking_completed_customer",
        status="sent", provider_message_id="wamid.S",
    )  # fmt: skip

    notification_record_delivery(provider_message_id="wamid.S", status="failed", at=timezone.now(), error_code="131050")

    assert not has_marketing_consent(customer.pk, "whatsapp")
    latest = MarketingConsent.objects.filter(user=customer).first()
    assert (latest.source, latest.granted) == (ConsentSource.WHATSAPP, False)
    assert not Notification.objects.filter(fallback_of=row).exists()


# 6. Start-up --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"SMS_PROMOTIONAL_SENDER_ID": "SALON"}, "notifications.E001"),
        ({"SMS_PROMOTIONAL_SENDER_ID": "SALONAD"}, "notifications.E001"),
        ({"NOTIFICATION_PROVIDER": "unifonic", "UNIFONIC_APP_SID": "x"}, "notifications.E002"),
        ({"NOTIFICATION_PROMOTIONAL_SMS_PROVIDER": "twilio"}, "notifications.E003"),
        ({"PROMOTIONAL_HOURS": "20:00-09:00"}, "notifications.E004"),
        ({"SMS_PROMOTIONAL_SENDER_ID": "SALON-AD", "NOTIFICATION_PROVIDER": "unifonic"}, ""),
        ({"NOTIFICATION_PROVIDER": "unifonic", "PROMOTIONAL_SMS_ENABLED": "0"}, ""),
    ],
)
def test_start_up_refuses_a_promotional_sender_without_ad(env, refused):
    import os

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BACKEND_DIR,
        env={**os.environ, "DATABASE_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    if refused:
        assert result.returncode != 0 and refused in result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_managers_record_consent_given_at_the_salon_for_their_own_customers_only(client, now):
    from apps.common.tests.admin_fixtures import salon_world

    alpha = salon_world("Alpha", phone_prefix="+9665411000")
    beta = salon_world("Beta", phone_prefix="+9665422000")
    client.force_login(alpha.manager)

    mine = client.post(
        "/admin/notifications/marketingconsent/add/", {"user": alpha.customer.pk, "channel": "sms", "granted": "on"}
    )
    theirs = client.post(
        "/admin/notifications/marketingconsent/add/", {"user": beta.customer.pk, "channel": "sms", "granted": "on"}
    )

    assert mine.status_code == 302
    row = MarketingConsent.objects.get(user=alpha.customer)
    assert (row.granted, row.source, row.recorded_by_id) == (True, ConsentSource.ADMIN, alpha.manager.pk)
    assert row.wording.startswith("I agree")
    assert theirs.status_code == 200 and "user" in theirs.context["adminform"].form.errors
    assert not MarketingConsent.objects.filter(user=beta.customer).exists()
    listing = client.get("/admin/notifications/marketingconsent/")
    assert [c.user_id for c in listing.context["cl"].result_list] == [alpha.customer.pk]
