"""A WhatsApp message accepted, then reported undeliverable: the person still hears, once, by SMS;
and the channel learns (SMS first until they are seen on WhatsApp again).

The fake WhatsApp and Twilio servers are real HTTP servers on this machine; the
reports reach our webhooks through a live server, signed as the providers sign them.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.common.tests.factories import BookingFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.models import Notification, NotificationStatus, Reroute, SkipReason
from apps.notifications.reminders import reminder_scan
from integrations.messaging.errors import PROVIDER_ERRORS, OnFailure

pytestmark = pytest.mark.django_db(transaction=True)

START = "2026-03-01T10:00:00+03:00"
LATER = "2026-03-01T11:00:00+03:00"


@pytest.fixture
def twilio(settings):
    with FakeTwilio() as fake:
        for key, value in fake.env().items():
            setattr(settings, key, value)
        settings.TWILIO_WHATSAPP_FROM = "+14155238886"
        settings.NOTIFICATION_SMS_PROVIDER = "twilio"
        yield fake


@pytest.fixture
def meta(meta, twilio):
    """WhatsApp through Meta's Cloud API (the shared fake), SMS through Twilio."""
    return meta


@pytest.fixture
def base(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url  # Twilio signs the URL it called
    return live_server.url


@pytest.fixture
def customer(db):
    return UserFactory(name="Chris", preferred_language="en", preferred_channel="whatsapp")


@pytest.fixture
def stylist(haircut):
    return StaffFactory(salon=haircut.salon, services=[haircut], name="Sara", preferred_language="ar")


def _book(api, customer, haircut, stylist, start=START) -> Booking:
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": start}
    )
    assert response.status_code == 201, response.json()
    return Booking.objects.get(pk=response.json()["id"])


def _customer_rows(booking, customer):
    return list(Notification.objects.filter(booking=booking, recipient=customer).order_by("id"))


# 1. Meta: accepted, then 131026 ------------------------------------------------------------
def test_meta_131026_after_acceptance_sends_the_same_message_once_by_sms_and_learns(
    api, now, meta, twilio, base, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    (whatsapp_row,) = _customer_rows(booking, customer)
    assert (whatsapp_row.channel, whatsapp_row.status) == ("whatsapp", "sent")
    assert len(meta.messages_to(customer.phone)) == 1 and twilio.sms_to(customer.phone) == []

    report = meta.status(
        message_id=whatsapp_row.provider_message_id, status="failed", code=131026, title="Undeliverable"
    )
    answers = [meta.deliver(f"{base}/api/webhooks/whatsapp/", report) for _ in range(4)]

    assert [a.status_code for a in answers] == [200] * 4
    whatsapp_row.refresh_from_db()
    assert (whatsapp_row.status, whatsapp_row.delivery_status) == ("failed", "failed")
    assert whatsapp_row.reason == "[131026] Undeliverable"
    sms = Notification.objects.get(fallback_of=whatsapp_row)
    assert (sms.channel, sms.status, sms.reroute, sms.message) == (
        "sms",
        "sent",
        "whatsapp_failed",
        whatsapp_row.message,
    )
    assert [r.body for r in twilio.sms_to(customer.phone)] == [whatsapp_row.message]  # once, whatever the repeats
    customer.refresh_from_db()
    assert customer.whatsapp_unreachable_until == timezone.now() + timedelta(days=30)

    # The next booking goes by SMS with no WhatsApp call.
    second = _book(api, customer, haircut, stylist, start=LATER)
    (row,) = _customer_rows(second, customer)
    assert (row.channel, row.status, row.reroute) == ("sms", "sent", Reroute.WHATSAPP_UNREACHABLE)
    assert len(meta.messages_to(customer.phone)) == 1
    assert len(twilio.sms_to(customer.phone)) == 2

    # They write to us on WhatsApp: WhatsApp again.
    assert (
        meta.deliver(f"{base}/api/webhooks/whatsapp/", meta.write(sender=customer.phone, text="hi")).status_code == 200
    )
    customer.refresh_from_db()
    assert customer.whatsapp_unreachable_until is None
    third = _book(api, customer, haircut, stylist, start="2026-03-01T12:00:00+03:00")
    (row,) = _customer_rows(third, customer)
    assert (row.channel, row.status, row.reroute) == ("whatsapp", "sent", "")
    assert len(meta.messages_to(customer.phone)) == 2


def test_a_delivered_whatsapp_message_clears_what_was_learned(api, now, meta, twilio, base, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    (row,) = _customer_rows(booking, customer)
    User.objects.filter(pk=customer.pk).update(whatsapp_unreachable_until=timezone.now() + timedelta(days=3))

    meta.deliver(f"{base}/api/webhooks/whatsapp/", meta.status(message_id=row.provider_message_id, status="delivered"))

    customer.refresh_from_db()
    assert customer.whatsapp_unreachable_until is None


# 2. Twilio's WhatsApp: accepted, then 63003 ------------------------------------------------
def test_twilio_63003_after_acceptance_sends_the_same_message_once_by_sms_and_learns(
    api, now, twilio, base, settings, customer, haircut, stylist
):
    settings.NOTIFICATION_PROVIDER = "twilio"
    booking = _book(api, customer, haircut, stylist)
    (whatsapp_row,) = _customer_rows(booking, customer)
    assert (whatsapp_row.channel, whatsapp_row.status) == ("whatsapp", "sent")
    assert len(twilio.whatsapp_to(customer.phone)) == 1

    callback = f"{base}/api/webhooks/twilio/status/"
    answers = [
        twilio.post_status(callback, sid=whatsapp_row.provider_message_id, status="undelivered", error_code="63003")
        for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [204] * 4
    sms = Notification.objects.get(fallback_of=whatsapp_row)
    assert (sms.channel, sms.status) == ("sms", "sent")
    assert [r.body for r in twilio.sms_to(customer.phone)] == [whatsapp_row.message]
    second = _book(api, customer, haircut, stylist, start=LATER)
    (row,) = _customer_rows(second, customer)
    assert (row.channel, row.reroute) == ("sms", Reroute.WHATSAPP_UNREACHABLE)
    assert len(twilio.whatsapp_to(customer.phone)) == 1  # no WhatsApp call for the second booking

    inbound = {"From": f"whatsapp:{customer.phone}", "To": "whatsapp:+14155238886", "Body": "hello"}
    assert twilio.post_inbound(f"{base}/api/webhooks/twilio/inbound/", inbound).status_code == 204
    third = _book(api, customer, haircut, stylist, start="2026-03-01T12:00:00+03:00")
    (row,) = _customer_rows(third, customer)
    assert (row.channel, row.status) == ("whatsapp", "sent")


# 3. What the table says, applied to late reports -------------------------------------------
def test_a_late_failure_never_reaches_someone_who_opted_out_of_sms(
    api, now, meta, twilio, base, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    (row,) = _customer_rows(booking, customer)
    User.objects.filter(pk=customer.pk).update(sms_opted_out=True)

    meta.deliver(
        f"{base}/api/webhooks/whatsapp/", meta.status(message_id=row.provider_message_id, status="failed", code=131026)
    )

    sms = Notification.objects.get(fallback_of=row)
    assert (sms.status, sms.reason) == ("skipped", SkipReason.OPTED_OUT)
    assert twilio.sms_to(customer.phone) == []


def test_a_reminder_failing_after_the_start_is_not_sent_late_by_sms(
    api, now, meta, twilio, base, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    now.move_to(booking.start - timedelta(hours=2))
    reminder_scan()
    reminder = Notification.objects.get(
        booking=booking, recipient=customer, event="booking_reminder", reminder_offset_minutes=120
    )
    assert (reminder.channel, reminder.status) == ("whatsapp", "sent")
    now.move_to(booking.start + timedelta(minutes=5))

    meta.deliver(
        f"{base}/api/webhooks/whatsapp/",
        meta.status(message_id=reminder.provider_message_id, status="failed", code=131026),
    )

    sms = Notification.objects.get(fallback_of=reminder)
    assert (sms.channel, sms.status, sms.reason) == ("sms", "skipped", SkipReason.APPOINTMENT_STARTED)
    assert [r.body for r in twilio.sms_to(customer.phone)] == []


def test_a_person_who_stopped_marketing_on_whatsapp_is_not_routed_around(
    api, now, meta, twilio, base, customer, haircut, stylist
):
    assert PROVIDER_ERRORS[("whatsapp_cloud", "131050")].on_failure == OnFailure.GIVE_UP
    booking = _book(api, customer, haircut, stylist)
    (row,) = _customer_rows(booking, customer)

    meta.deliver(
        f"{base}/api/webhooks/whatsapp/", meta.status(message_id=row.provider_message_id, status="failed", code=131050)
    )

    row.refresh_from_db()
    assert row.status == "failed" and not Notification.objects.filter(fallback_of=row).exists()
    assert twilio.sms_to(customer.phone) == []


def test_a_late_rate_limit_is_tried_again_on_whatsapp(
    api, now, meta, twilio, base, settings, customer, haircut, stylist
):
    assert PROVIDER_ERRORS[("whatsapp_cloud", "130429")].on_failure == OnFailure.RETRY
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 5
    booking = _book(api, customer, haircut, stylist)
    (row,) = _customer_rows(booking, customer)
    first_id = row.provider_message_id

    meta.deliver(f"{base}/api/webhooks/whatsapp/", meta.status(message_id=first_id, status="failed", code=130429))
    row.refresh_from_db()
    assert (row.status, row.delivery_status) == ("pending", "failed")  # reserved for its retry
    now.move_to(row.claimed_until + timedelta(seconds=1))
    assert notification_deliver(notification_id=row.pk).status == NotificationStatus.SENT

    row.refresh_from_db()
    assert row.provider_message_id != first_id and row.delivery_status == ""
    assert len(meta.messages_to(customer.phone)) == 2 and twilio.sms_to(customer.phone) == []


# 4. Template states ------------------------------------------------------------------------
def test_a_paused_template_sends_by_sms_without_a_whatsapp_call_until_approved_again(
    api, now, meta, twilio, base, customer, haircut, stylist
):
    hook = f"{base}/api/webhooks/whatsapp/"
    paused = meta.template_event(
        name="booking_created_customer", language="en", event="PAUSED", other_info={"title": "FIRST_PAUSE"}
    )
    assert meta.deliver(hook, paused).status_code == 200

    booking = _book(api, customer, haircut, stylist)
    (row,) = _customer_rows(booking, customer)
    assert (row.channel, row.status, row.reroute) == ("sms", "sent", Reroute.TEMPLATE_UNAVAILABLE)
    assert meta.messages_to(customer.phone) == []
    assert [r.body for r in twilio.sms_to(customer.phone)] == [row.message]

    approved = meta.template_event(
        name="booking_created_customer", language="en", event="APPROVED", at=int(timezone.now().timestamp()) + 60
    )
    assert meta.deliver(hook, approved).status_code == 200
    second = _book(api, customer, haircut, stylist, start=LATER)
    (row,) = _customer_rows(second, customer)
    assert (row.channel, row.status, row.reroute) == ("whatsapp", "sent", "")
    assert len(meta.messages_to(customer.phone)) == 1


def test_a_whatsapp_row_written_before_the_pause_goes_by_sms_at_delivery(meta, twilio, now, customer, haircut, stylist):
    from apps.notifications.whatsapp_templates import whatsapp_template_record

    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    from apps.notifications.services import build_notification

    row = build_notification(booking, customer, "booking_created")
    row.save()
    assert row.channel == "whatsapp"
    whatsapp_template_record(name=row.template, language="en", at=timezone.now(), status="DISABLED")

    assert notification_deliver(notification_id=row.pk).status == NotificationStatus.SKIPPED

    row.refresh_from_db()
    assert (row.status, row.reason) == ("skipped", SkipReason.TEMPLATE_UNAVAILABLE)
    assert meta.messages_to(customer.phone) == []
    sms = Notification.objects.get(fallback_of=row)
    assert (sms.channel, sms.reroute) == ("sms", Reroute.TEMPLATE_UNAVAILABLE)


def test_a_send_refused_with_132015_marks_the_template_paused_and_falls_back(
    settings, twilio, now, customer, haircut, stylist
):
    import httpx
    import respx

    from apps.notifications.models import WhatsAppTemplate
    from apps.notifications.services import build_notification

    settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "t", "1"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    row = build_notification(booking, customer, "booking_created")
    row.save()
    paused = {"error": {"message": "(#132015) Template is Paused", "code": 132015, "error_data": {"details": "Paused"}}}
    with respx.mock(assert_all_called=True) as router:
        router.post("https://graph.test/v21.0/1/messages").mock(return_value=httpx.Response(400, json=paused))
        router.route(host="127.0.0.1").pass_through()
        notification_deliver(notification_id=row.pk)

    template = WhatsAppTemplate.objects.get(name="booking_created_customer", language="en")
    assert template.status == "PAUSED" and not template.usable
    assert Notification.objects.get(fallback_of=row).status == "sent"


def test_template_quality_and_category_are_kept_and_an_older_report_never_wins(api, now, meta, base):
    from apps.notifications.models import WhatsAppTemplate

    hook = f"{base}/api/webhooks/whatsapp/"
    t0 = int(timezone.now().timestamp())
    meta.deliver(hook, meta.template_event(name="booking_completed_customer", language="ar", event="APPROVED", at=t0,
                                           message_template_category="UTILITY"))  # fmt: skip
    meta.deliver(
        hook, meta.template_quality(name="booking_completed_customer", language="ar", new="YELLOW", at=t0 + 10)
    )
    meta.deliver(
        hook,
        meta.template_category(
            name="booking_completed_customer", language="ar", new="UTILITY", correct_category="MARKETING", at=t0 + 20
        ),
    )  # fmt: skip  (announced only)
    template = WhatsAppTemplate.objects.get(name="booking_completed_customer", language="ar")
    assert (template.status, template.quality, template.category) == ("APPROVED", "YELLOW", "UTILITY")

    meta.deliver(hook, meta.template_category(name="booking_completed_customer", language="ar", new="MARKETING",
                                              previous="UTILITY", at=t0 + 30))  # fmt: skip
    meta.deliver(
        hook, meta.template_event(name="booking_completed_customer", language="ar", event="PAUSED", at=t0 + 40)
    )
    meta.deliver(
        hook, meta.template_event(name="booking_completed_customer", language="ar", event="APPROVED", at=t0 + 5)
    )

    template.refresh_from_db()
    assert (template.status, template.category) == ("PAUSED", "MARKETING")  # the late APPROVED (t0+5) lost


def test_template_webhooks_need_metas_signature(api, now, meta, base):
    from apps.notifications.models import WhatsAppTemplate

    paused = meta.template_event(name="booking_created_customer", language="en", event="PAUSED")
    response = meta.deliver(f"{base}/api/webhooks/whatsapp/", paused, secret="not-the-app-secret")

    assert response.status_code == 403
    assert not WhatsAppTemplate.objects.exists()
