"""After the visit: a thank-you (with the salon's review link) or a no-show notice,
to the customer only, as the salon's message settings say."""

import logging

import pytest

from apps.notifications.models import Notification, NotificationStatus, SalonNotificationSettings
from apps.notifications.promotional import optout_link

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"


@pytest.fixture
def visited(api, now, customer, haircut, stylist, time_machine):
    """A confirmed booking whose appointment has begun."""
    booking_id = (
        api.as_user(customer)
        .post("/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": START})
        .json()["id"]
    )
    assert api.as_user(stylist).patch(f"/api/bookings/{booking_id}/", {"status": "confirmed"}).status_code == 200
    # The thank-you is promotional: the customer agreed to offers by SMS (docs/compliance.md).
    consent = api.as_user(customer).post("/api/me/consents/", {"channel": "sms", "granted": True})
    assert consent.status_code == 201
    time_machine.move_to("2026-03-01T10:40:00+03:00", tick=False)
    return booking_id


def _after_visit(booking_id):
    return Notification.objects.filter(booking_id=booking_id, event__in=["booking_completed", "booking_no_show"])


def test_completing_sends_one_thank_you_with_the_review_link_to_the_customer_only(
    api, visited, customer, stylist, salon, caplog
):
    SalonNotificationSettings.objects.create(salon=salon, review_url="https://g.page/main-salon/review")
    caplog.set_level(logging.INFO, logger="salon.messages")

    response = api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": "completed"})
    again = api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": "completed"})

    assert response.status_code == again.status_code == 200
    (row,) = _after_visit(visited)
    assert (row.recipient_id, row.event, row.status) == (customer.pk, "booking_completed", NotificationStatus.SENT)
    assert row.message == (
        "Thank you for visiting Main Salon! Review us: https://g.page/main-salon/review"
        f" Opt out: {optout_link(customer.pk)}"
    )
    assert row.template == "booking_completed_review_customer"
    assert row.variables[-1] == "https://g.page/main-salon/review"
    lines = [r.getMessage() for r in caplog.records if "Thank you" in r.getMessage()]
    assert lines == [f"OTP SMS to 0{customer.phone[4:]}: {row.message}"]
    assert not Notification.objects.filter(booking_id=visited, recipient=stylist, event="booking_completed").exists()


def test_without_a_review_link_the_thank_you_has_none(api, visited, stylist):
    api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": "completed"})

    (row,) = _after_visit(visited)
    assert "We hope to see you again soon. Opt out: " in row.message
    assert row.template == "booking_completed_customer"


def test_a_no_show_sends_one_polite_notice_in_the_customers_language(api, visited, customer, stylist):
    customer.preferred_language = "ar"
    customer.save()

    response = api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": "no_show"})

    assert response.status_code == 200
    (row,) = _after_visit(visited)
    assert (row.recipient_id, row.event, row.status) == (customer.pk, "booking_no_show", NotificationStatus.SENT)
    assert row.message == (
        "افتقدناك في الصالون الرئيسي لموعد قص الشعر بتاريخ 2026-03-01 10:00. احجز موعداً جديداً متى شئت."
    )


@pytest.mark.parametrize(("status", "switch"), [("completed", "send_completed"), ("no_show", "send_no_show")])
def test_a_salon_can_turn_each_after_visit_message_off(api, visited, stylist, salon, status, switch):
    SalonNotificationSettings.objects.create(salon=salon, **{switch: False})

    response = api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": status})

    assert response.status_code == 200
    assert not _after_visit(visited).exists()


def test_after_visit_messages_are_listed_in_the_admin(api, admin_client, visited, stylist):
    api.as_user(stylist).patch(f"/api/bookings/{visited}/", {"status": "completed"})

    page = admin_client.get("/admin/notifications/notification/", {"event__exact": "booking_completed"})

    assert page.status_code == 200
    assert [row.event for row in page.context["cl"].result_list] == ["booking_completed"]
