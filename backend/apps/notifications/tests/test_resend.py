"""Resending a failed message resends that row, as it is: through the admin action
and through `resend_failed_notifications`, with the providers faked at the HTTP layer."""

import io
import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.contrib.messages import get_messages
from django.core.management import call_command

from apps.common.tests.factories import BookingFactory, NotificationFactory, UserFactory
from apps.notifications.models import DeliveryAttempt, Notification, NotificationStatus

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"
TWILIO_SEND = "https://twilio.test/2010-04-01/Accounts/AC123/Messages.json"
WHATSAPP_SEND = "https://graph.test/v21.0/1098765/messages"
UNDELIVERABLE = {"error": {"message": "(#131026) Message undeliverable", "code": 131026, "fbtrace_id": "A"}}
TWILIO_AUTH_ERROR = {"code": 20003, "message": "Authenticate", "status": 401}


class Providers:
    """WhatsApp Cloud and Twilio SMS fakes whose answers the test switches."""

    def __init__(self, router):
        self.whatsapp_works = True
        self.sms_works = True
        self.whatsapp = router.post(WHATSAPP_SEND).mock(side_effect=self._whatsapp)
        self.sms = router.post(TWILIO_SEND).mock(side_effect=self._sms)

    def _whatsapp(self, request):
        if self.whatsapp_works:
            return httpx.Response(200, json={"messages": [{"id": f"wamid.{len(self.whatsapp.calls)}"}]})
        return httpx.Response(400, json=UNDELIVERABLE)

    def _sms(self, request):
        if self.sms_works:
            return httpx.Response(201, json={"sid": f"SM{len(self.sms.calls)}"})
        return httpx.Response(401, json=TWILIO_AUTH_ERROR)

    def sms_to(self, phone) -> list[str]:
        """The texts the SMS provider accepted for ``phone``."""
        accepted = [parse_qs(c.request.content.decode()) for c in self.sms.calls if c.response.status_code == 201]
        return [form["Body"][0] for form in accepted if form["To"][0] == phone]

    def whatsapp_to(self, phone) -> int:
        return sum(1 for c in self.whatsapp.calls if json.loads(c.request.content)["to"] == phone.lstrip("+"))


@pytest.fixture
def providers(settings):
    settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    settings.NOTIFICATION_SMS_PROVIDER = "twilio"
    settings.WHATSAPP_TOKEN = "meta-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1098765"
    settings.WHATSAPP_API_VERSION = "v21.0"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    settings.TWILIO_FROM = "SALON"
    settings.TWILIO_BASE_URL = "https://twilio.test"
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield Providers(router)


def _book(api, customer, haircut, stylist) -> int:
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": START}
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _resend(via, rows, admin_client, capture, *command_args) -> str:
    """Resend ``rows`` through the admin action or the command; return what it reported."""
    with capture(execute=True):
        if via == "admin":
            response = admin_client.post(
                "/admin/notifications/notification/",
                {"action": "resend_failed", "_selected_action": [row.pk for row in rows]},
            )
            assert response.status_code == 302
            return " ".join(str(m) for m in get_messages(response.wsgi_request))
        out = io.StringIO()
        call_command("resend_failed_notifications", *command_args, stdout=out)
        return out.getvalue()


def _snapshot(rows):
    return {row.pk: (row.status, row.attempts, row.channel) for row in Notification.objects.filter(pk__in=rows)}


VIA = pytest.mark.parametrize("via", ["admin", "command"])


@VIA
def test_a_failed_sms_fallback_row_is_itself_resent(
    via, api, now, providers, haircut, stylist, admin_client, django_capture_on_commit_callbacks
):
    customer = UserFactory(preferred_channel="whatsapp")
    providers.whatsapp_works = providers.sms_works = False
    booking_id = _book(api, customer, haircut, stylist)
    whatsapp_row = Notification.objects.get(booking_id=booking_id, recipient=customer, channel="whatsapp")
    fallback = Notification.objects.get(booking_id=booking_id, recipient=customer, channel="sms")
    staff_row = Notification.objects.get(booking_id=booking_id, recipient=stylist)
    assert {whatsapp_row.status, fallback.status, staff_row.status} == {NotificationStatus.FAILED}
    untouched = _snapshot([whatsapp_row.pk, staff_row.pk])
    providers.sms_works = True

    report = _resend(via, [fallback], admin_client, django_capture_on_commit_callbacks, "--id", str(fallback.pk))

    fallback.refresh_from_db()
    assert fallback.status == NotificationStatus.SENT
    assert providers.sms_to(customer.phone) == [fallback.message]
    assert _snapshot([whatsapp_row.pk, staff_row.pk]) == untouched
    assert Notification.objects.filter(booking_id=booking_id).count() == 3
    assert "Queued 1 failed notification(s) again." in report


@VIA
def test_with_whatsapp_still_refusing_and_sms_back_both_people_get_the_sms(
    via, api, now, providers, haircut, admin_client, django_capture_on_commit_callbacks
):
    from apps.common.tests.factories import StaffFactory

    customer = UserFactory(preferred_channel="whatsapp")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_channel="whatsapp")
    providers.whatsapp_works = providers.sms_works = False
    booking_id = _book(api, customer, haircut, stylist)
    failed = list(Notification.objects.filter(booking_id=booking_id))
    assert [(r.channel, r.status) for r in sorted(failed, key=lambda r: r.channel)] == [
        ("sms", "failed"),
        ("sms", "failed"),
        ("whatsapp", "failed"),
        ("whatsapp", "failed"),
    ]
    providers.sms_works = True  # WhatsApp still refuses

    report = _resend(via, failed, admin_client, django_capture_on_commit_callbacks)

    assert "Queued 4 failed notification(s) again." in report
    rows = Notification.objects.filter(booking_id=booking_id)
    assert rows.count() == 4
    assert set(rows.filter(channel="sms").values_list("status", flat=True)) == {NotificationStatus.SENT}
    # WhatsApp said 131026 (not on WhatsApp): the resent WhatsApp rows are not tried again there.
    whatsapp = rows.filter(channel="whatsapp")
    assert set(whatsapp.values_list("status", "reason")) == {(NotificationStatus.SKIPPED, "whatsapp_unreachable")}
    for person in (customer, stylist):
        assert len(providers.sms_to(person.phone)) == 1
        assert providers.whatsapp_to(person.phone) == 1  # the first try only


@VIA
def test_a_customer_who_switched_channel_gets_the_failed_sms_itself(
    via, api, now, providers, haircut, stylist, admin_client, django_capture_on_commit_callbacks
):
    customer = UserFactory(preferred_channel="sms")
    providers.sms_works = False
    booking_id = _book(api, customer, haircut, stylist)
    row = Notification.objects.get(booking_id=booking_id, recipient=customer)
    assert row.status == NotificationStatus.FAILED
    assert api.as_user(customer).patch("/api/me/", {"preferred_channel": "whatsapp"}).status_code == 200
    providers.sms_works = True

    first = _resend(via, [row], admin_client, django_capture_on_commit_callbacks, "--id", str(row.pk))
    second = _resend(via, [row], admin_client, django_capture_on_commit_callbacks, "--id", str(row.pk))

    row.refresh_from_db()
    assert (row.status, row.channel) == (NotificationStatus.SENT, "sms")
    assert providers.sms_to(customer.phone) == [row.message]
    assert providers.whatsapp_to(customer.phone) == 0
    assert not Notification.objects.filter(booking_id=booking_id, recipient=customer, channel="whatsapp").exists()
    assert "Queued 1 failed notification(s) again." in first
    assert "Queued 0 failed notification(s) again." in second


@VIA
def test_a_resent_reschedule_message_keeps_the_times_it_was_about(
    via, now, providers, haircut, stylist, customer, admin_client, django_capture_on_commit_callbacks
):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    text = "Your booking for Haircut at Main Salon moved from 2026-03-01 10:00 to 2026-03-01 11:00."
    row = NotificationFactory(
        booking=booking, event="booking_rescheduled", sequence=1, status="failed", message=text, reason="[20003] x"
    )

    report = _resend(via, [row], admin_client, django_capture_on_commit_callbacks, "--id", str(row.pk))

    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and row.message == text
    assert providers.sms_to(customer.phone) == [text]
    assert "Queued 1" in report


@VIA
def test_what_could_not_be_queued_is_reported_and_left_as_it_was(
    via, now, providers, haircut, stylist, admin_client, django_capture_on_commit_callbacks
):
    opted_out = UserFactory(sms_opted_out=True)
    booking = BookingFactory(service=haircut, staff=stylist, customer=opted_out)
    row = NotificationFactory(booking=booking, status="failed", reason="[20003] Authenticate")

    report = _resend(via, [row], admin_client, django_capture_on_commit_callbacks)

    row.refresh_from_db()
    assert (row.status, row.reason) == (NotificationStatus.FAILED, "[20003] Authenticate")
    assert providers.sms.call_count == 0 and not DeliveryAttempt.objects.exists()
    assert "Queued 0 failed notification(s) again." in report
    assert "Not queued: 1 (recipient opted out of the channel)." in report
