"""Booking lifecycle notifications, seen from outside: API answers, rows, provider traffic."""

import logging
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.db import transaction

from apps.accounts.models import Role
from apps.bookings.models import Booking
from apps.common.tests.factories import BookingFactory, StaffFactory
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus, SkipReason
from apps.notifications.services import send_booking_notification

pytestmark = pytest.mark.django_db

BOOKING_START = "2026-03-01T10:00:00+03:00"
TWILIO = "https://twilio.test"
TWILIO_SEND = f"{TWILIO}/2010-04-01/Accounts/AC123/Messages.json"


def _create(api, customer, haircut, stylist, start=BOOKING_START):
    return api.as_user(customer).post("/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": start})


def _rows(booking_id, event):
    return list(Notification.objects.filter(booking_id=booking_id, event=event).order_by("recipient_id"))


@pytest.fixture
def twilio(settings):
    settings.NOTIFICATION_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM = "SALON"
    settings.TWILIO_BASE_URL = TWILIO
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def test_creating_a_booking_sends_customer_and_staff_a_message_through_the_console(
    api, now, customer, haircut, stylist, caplog
):
    caplog.set_level(logging.INFO, logger="salon.messages")

    response = _create(api, customer, haircut, stylist)

    assert response.status_code == 201, response.json()
    rows = _rows(response.json()["id"], NotificationEvent.BOOKING_CREATED)
    assert [(row.recipient_id, row.status, row.provider) for row in rows] == sorted(
        [(customer.pk, "sent", "console"), (stylist.pk, "sent", "console")]
    )
    assert all(row.provider_message_id and row.attempts == 1 and row.sent_at for row in rows)
    lines = [record.getMessage() for record in caplog.records if record.name == "salon.messages"]
    customer_phone = "0" + customer.phone[4:]
    assert (
        f"OTP SMS to {customer_phone}: Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00."
        in lines
    )
    staff_line = next(line for line in lines if line.startswith(f"OTP SMS to 0{stylist.phone[4:]}: "))
    assert "Chris" in staff_line and "قص الشعر" in staff_line and "2026-03-01 10:00" in staff_line
    assert len(lines) == 2


def test_confirming_adds_two_confirmed_rows_once_and_cancelling_adds_two_cancelled(
    api, now, customer, haircut, stylist
):
    booking_id = _create(api, customer, haircut, stylist).json()["id"]
    url = f"/api/bookings/{booking_id}/"

    confirmed = api.as_user(stylist).patch(url, {"status": "confirmed"})
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "confirmed"
    assert len(_rows(booking_id, NotificationEvent.BOOKING_CONFIRMED)) == 2

    again = api.as_user(stylist).patch(url, {"status": "confirmed"})
    assert again.status_code == 200
    assert len(_rows(booking_id, NotificationEvent.BOOKING_CONFIRMED)) == 2
    assert Notification.objects.filter(booking_id=booking_id).count() == 4

    cancelled = api.as_user(customer).patch(url, {"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.json()
    rows = _rows(booking_id, NotificationEvent.BOOKING_CANCELLED)
    assert {row.recipient_id for row in rows} == {customer.pk, stylist.pk}
    assert {row.status for row in rows} == {NotificationStatus.SENT}
    assert Notification.objects.filter(booking_id=booking_id).count() == 6


def test_staff_member_without_phone_gets_a_skipped_row_with_reason(api, now, customer, haircut):
    phoneless = StaffFactory(salon=haircut.salon, services=[haircut], phone=None)

    response = _create(api, customer, haircut, phoneless)

    assert response.status_code == 201
    row = Notification.objects.get(booking_id=response.json()["id"], recipient=phoneless)
    assert row.status == NotificationStatus.SKIPPED
    assert row.reason == SkipReason.NO_PHONE
    assert row.phone == "" and row.attempts == 0
    customer_row = Notification.objects.get(booking_id=response.json()["id"], recipient=customer)
    assert customer_row.status == NotificationStatus.SENT


def test_provider_failure_gives_failed_row_and_a_later_send_updates_it_to_sent(
    api, now, customer, haircut, stylist, twilio, django_capture_on_commit_callbacks
):
    route = twilio.post(TWILIO_SEND).mock(
        return_value=httpx.Response(
            400, json={"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
        )
    )

    response = _create(api, customer, haircut, stylist)

    assert response.status_code == 201  # the booking stands even though no message went out
    booking = Booking.objects.get(pk=response.json()["id"])
    row = Notification.objects.get(booking=booking, recipient=customer)
    assert row.status == NotificationStatus.FAILED
    assert "21211" in row.reason and "not a valid phone number" in row.reason
    assert route.call_count == 2

    route.mock(return_value=httpx.Response(201, json={"sid": "SM0001", "status": "queued"}))
    with django_capture_on_commit_callbacks(execute=True):
        send_booking_notification(booking, customer, NotificationEvent.BOOKING_CREATED)

    assert Notification.objects.filter(booking=booking, recipient=customer).count() == 1
    row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.reason, row.attempts) == ("sent", "SM0001", "", 2)
    sent = parse_qs(route.calls.last.request.content.decode())
    assert sent["To"] == [customer.phone] and sent["From"] == ["SALON"]
    assert sent["Body"] == ["Your booking request is received for Haircut at Main Salon on 2026-03-01 10:00."]


def test_a_sent_row_is_never_sent_again(now, customer, haircut, stylist, twilio, django_capture_on_commit_callbacks):
    route = twilio.post(TWILIO_SEND).mock(return_value=httpx.Response(201, json={"sid": "SM1", "status": "queued"}))
    booking = BookingFactory(service=haircut, customer=customer, staff=stylist)

    with django_capture_on_commit_callbacks(execute=True):
        first = send_booking_notification(booking, customer, NotificationEvent.BOOKING_CREATED)
    with django_capture_on_commit_callbacks(execute=True):
        second = send_booking_notification(booking, customer, NotificationEvent.BOOKING_CREATED)

    assert first.pk == second.pk
    assert route.call_count == 1
    assert Notification.objects.get(pk=first.pk).status == NotificationStatus.SENT


def test_arabic_customer_gets_arabic_text_with_riyadh_time_and_arabic_names(api, now, haircut, stylist):
    from apps.common.tests.factories import UserFactory

    arabic_customer = UserFactory(name="نورة", preferred_language="ar")

    # 07:00 UTC is 10:00 in Riyadh.
    response = _create(api, arabic_customer, haircut, stylist, start="2026-03-01T07:00:00Z")

    assert response.status_code == 201, response.json()
    row = Notification.objects.get(booking_id=response.json()["id"], recipient=arabic_customer)
    assert row.message == "تم استلام طلب حجزك لخدمة قص الشعر في الصالون الرئيسي بتاريخ 2026-03-01 10:00."


def test_english_staff_member_gets_english_text_about_the_customer(api, now, customer, haircut):
    english_stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="en")

    response = _create(api, customer, haircut, english_stylist)

    row = Notification.objects.get(booking_id=response.json()["id"], recipient=english_stylist)
    assert row.message == "New booking request: Chris for Haircut at Main Salon on 2026-03-01 10:00."


def test_local_time_follows_the_salon_time_zone(api, now, customer):
    from apps.common.tests.factories import ServiceFactory

    dubai_cut = ServiceFactory(salon__name="Dubai Salon", salon__time_zone="Asia/Dubai")
    dubai_stylist = StaffFactory(salon=dubai_cut.salon, services=[dubai_cut])

    response = _create(api, customer, dubai_cut, dubai_stylist, start="2026-03-01T06:00:00Z")

    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-03-01T10:00:00+04:00"
    row = Notification.objects.get(booking_id=response.json()["id"], recipient=customer)
    assert "on 2026-03-01 10:00." in row.message


def test_a_rolled_back_booking_change_leaves_no_message(now, customer, haircut, stylist, caplog):
    caplog.set_level(logging.INFO, logger="salon.messages")
    from apps.bookings.services import booking_create

    with pytest.raises(RuntimeError), transaction.atomic():
        booking_create(
            actor=customer,
            service_id=haircut.pk,
            staff_id=stylist.pk,
            start=Booking._meta.get_field("start").to_python(BOOKING_START),
        )
        raise RuntimeError("something after the booking failed")

    assert Booking.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not [r for r in caplog.records if r.name == "salon.messages"]


def test_manager_booking_notifies_the_customer_not_the_manager(api, now, customer, haircut, stylist):
    from apps.common.tests.factories import ManagerFactory

    manager = ManagerFactory(salon=haircut.salon, role=Role.MANAGER)

    response = api.as_user(manager).post(
        "/api/bookings/",
        {"service": haircut.pk, "staff": stylist.pk, "start": BOOKING_START, "customer": customer.pk},
    )

    assert response.status_code == 201, response.json()
    recipients = set(Notification.objects.filter(booking_id=response.json()["id"]).values_list("recipient", flat=True))
    assert recipients == {customer.pk, stylist.pk}
