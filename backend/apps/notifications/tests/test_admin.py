"""The Django admin: every notification visible and filterable; managers act through services."""

import pytest
from django.contrib.admin.sites import site

from apps.accounts.models import User
from apps.bookings.models import BookingStatus
from apps.common.tests.factories import BookingFactory, ManagerFactory
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus

pytestmark = pytest.mark.django_db


def _notification(booking, recipient, event, status):
    return Notification.objects.create(
        booking=booking, recipient=recipient, event=event, channel="sms", status=status, message="text"
    )


def test_notification_admin_is_registered_with_event_status_channel_filters():
    model_admin = site._registry[Notification]

    assert {"event", "status", "channel"} <= set(model_admin.list_filter)


def test_admin_lists_and_filters_notifications(admin_client, now, haircut, stylist, customer):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    failed = _notification(booking, customer, NotificationEvent.BOOKING_CREATED, NotificationStatus.FAILED)
    _notification(booking, stylist, NotificationEvent.BOOKING_CREATED, NotificationStatus.SENT)

    response = admin_client.get("/admin/notifications/notification/", {"status__exact": "failed"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [failed]
    for query in ({"event__exact": "booking_created"}, {"channel__exact": "sms"}):
        assert admin_client.get("/admin/notifications/notification/", query).status_code == 200
    assert admin_client.get(f"/admin/notifications/notification/{failed.pk}/change/").status_code == 200


def test_admin_resend_action_sends_a_failed_notification_again(
    admin_client, now, haircut, stylist, customer, django_capture_on_commit_callbacks
):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    failed = _notification(booking, customer, NotificationEvent.BOOKING_CREATED, NotificationStatus.FAILED)
    failed.phone, failed.provider = customer.phone, "console"
    failed.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/notifications/notification/", {"action": "resend_failed", "_selected_action": [failed.pk]}
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT
    assert Notification.objects.count() == 1


def test_admin_confirm_action_goes_through_the_service_and_notifies(
    client, now, haircut, stylist, customer, django_capture_on_commit_callbacks
):
    manager = ManagerFactory(salon=haircut.salon, is_staff=True, is_superuser=True)
    client.force_login(manager)
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/bookings/booking/", {"action": "mark_confirmed", "_selected_action": [booking.pk]}
        )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert Notification.objects.filter(booking=booking, event=NotificationEvent.BOOKING_CONFIRMED).count() == 2


def test_salon_manager_in_admin_sees_only_their_salon(client, now, haircut, stylist, customer):
    from django.contrib.auth.models import Permission

    manager = ManagerFactory(salon=haircut.salon, is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="view_booking"))
    client.force_login(manager)
    mine = BookingFactory(service=haircut, staff=stylist, customer=customer)
    BookingFactory()  # another salon

    response = client.get("/admin/bookings/booking/")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_admin_creates_staff_members_without_a_phone(admin_client, salon):
    for name in ("Lina", "Huda"):
        response = admin_client.post(
            "/admin/accounts/user/add/",
            {"phone": "", "name": name, "role": "staff", "salon": salon.pk, "preferred_language": "ar"},
        )
        assert response.status_code == 302, response.content[:500]

    assert list(User.objects.filter(role="staff").values_list("name", "phone")) == [("Lina", None), ("Huda", None)]


def test_admin_normalises_a_national_phone_and_refuses_a_bad_one(admin_client, salon):
    ok = admin_client.post(
        "/admin/accounts/user/add/",
        {"phone": "0501112233", "name": "Noor", "role": "staff", "salon": salon.pk, "preferred_language": "ar"},
    )
    bad = admin_client.post(
        "/admin/accounts/user/add/",
        {"phone": "12345", "name": "Bad", "role": "staff", "salon": salon.pk, "preferred_language": "ar"},
    )

    assert ok.status_code == 302
    assert User.objects.get(name="Noor").phone == "+966501112233"
    assert bad.status_code == 200 and "valid mobile" in bad.content.decode()
