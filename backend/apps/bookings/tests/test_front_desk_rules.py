"""The rules the front desk relies on, through the API and the services: completed
and no-show only from the start (for everyone), a cancellation's reason kept and
named in both messages, a move to another staff member, and a booking for a phone
number (a caller or a walk-in) that may have no account yet."""

from datetime import datetime, timedelta

import pytest

from apps.accounts.models import Role, User
from apps.bookings.models import Booking, BookingStatus
from apps.bookings.services import BookingChanges, booking_create_for_phone, booking_update
from apps.common.errors import AppError
from apps.common.tests.factories import RIYADH, BookingFactory, ManagerFactory, StaffFactory, UserFactory
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db

TOMORROW_10 = datetime(2026, 3, 1, 10, 0, tzinfo=RIYADH)


@pytest.fixture
def manager(haircut):
    return ManagerFactory(salon=haircut.salon, preferred_language="ar")


@pytest.fixture
def booking(now, haircut, stylist, customer):
    return BookingFactory(service=haircut, staff=stylist, customer=customer, start=TOMORROW_10)


def _messages(booking, event):
    return {row.recipient_id: row.message for row in Notification.objects.filter(booking=booking, event=event)}


@pytest.mark.parametrize("target", ["completed", "no_show"])
def test_a_manager_cannot_record_a_visit_before_the_start_either(api, booking, manager, target, time_machine):
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)

    early = api.as_user(manager).patch(f"/api/bookings/{booking.pk}/", {"status": target})

    assert early.status_code == 400 and early.json()["code"] == "booking_not_started"
    assert not Notification.objects.filter(booking=booking).exists()  # no "we missed you" before the time
    time_machine.move_to(TOMORROW_10, tick=False)  # from the start on, it may
    assert api.as_user(manager).patch(f"/api/bookings/{booking.pk}/", {"status": target}).status_code == 200


@pytest.mark.parametrize(
    ("reason", "stored", "english", "arabic"),
    [
        ("salon_closed", "salon_closed", "is cancelled (salon closed).", "(الصالون مغلق)."),
        ("  Stylist is ill  ", "Stylist is ill", "is cancelled (Stylist is ill).", "(Stylist is ill)."),
    ],
)
def test_a_cancellation_keeps_its_reason_and_both_messages_name_it(
    api, booking, manager, customer, stylist, reason, stored, english, arabic
):
    response = api.as_user(manager).patch(f"/api/bookings/{booking.pk}/", {"status": "cancelled", "reason": reason})

    assert response.status_code == 200 and response.json()["cancellation_reason"] == stored
    messages = _messages(booking, "booking_cancelled")
    assert messages[customer.pk].endswith(english)  # Chris reads English
    assert messages[stylist.pk].endswith(arabic)  # Sara reads Arabic


def test_a_reason_without_a_cancellation_is_refused(api, booking, manager):
    response = api.as_user(manager).patch(f"/api/bookings/{booking.pk}/", {"status": "confirmed", "reason": "x"})

    assert response.status_code == 400 and response.json()["code"] == "reason_without_cancellation"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.PENDING


def test_moving_to_another_staff_member_at_the_same_time_tells_both_staff_members_only(
    booking, manager, haircut, customer, stylist, django_capture_on_commit_callbacks
):
    other = StaffFactory(salon=haircut.salon, services=[haircut], name="Huda")

    with django_capture_on_commit_callbacks(execute=True):
        moved = booking_update(actor=manager, booking_id=booking.pk, changes=BookingChanges(staff_id=other.pk))

    assert (moved.staff_id, moved.start, moved.reschedule_count) == (other.pk, TOMORROW_10, 1)
    assert set(_messages(booking, "booking_rescheduled")) == {other.pk, stylist.pk}


def test_moving_to_another_staff_member_and_time_tells_the_customer_too(booking, manager, haircut, customer, stylist):
    other = StaffFactory(salon=haircut.salon, services=[haircut])
    later = TOMORROW_10 + timedelta(hours=2)

    moved = booking_update(actor=manager, booking_id=booking.pk, changes=BookingChanges(start=later, staff_id=other.pk))

    assert (moved.staff_id, moved.start) == (other.pk, later)
    messages = _messages(booking, "booking_rescheduled")
    assert set(messages) == {customer.pk, other.pk, stylist.pk}
    assert "from 2026-03-01 10:00 to 2026-03-01 12:00" in messages[customer.pk]


def test_a_move_to_another_staff_member_is_checked_like_a_booking(booking, manager, haircut, stylist, customer):
    not_performing = StaffFactory(salon=haircut.salon)
    busy = StaffFactory(salon=haircut.salon, services=[haircut])
    BookingFactory(service=haircut, staff=busy, customer=UserFactory(), start=TOMORROW_10 + timedelta(minutes=15))

    refusals = {}
    for name, actor, staff in (
        ("not performing", manager, not_performing),
        ("busy", manager, busy),
        ("by the staff member", stylist, busy),
        ("by the customer", customer, busy),
    ):
        with pytest.raises(AppError) as refused:
            booking_update(actor=actor, booking_id=booking.pk, changes=BookingChanges(staff_id=staff.pk))
        refusals[name] = refused.value.code

    assert refusals == {
        "not performing": "staff_does_not_perform_service",
        "busy": "slot_taken",
        "by the staff member": "action_not_allowed",
        "by the customer": "action_not_allowed",
    }
    assert Booking.objects.get(pk=booking.pk).staff_id == stylist.pk


def test_the_desk_books_a_new_phone_number_as_a_new_customer(
    now, manager, haircut, stylist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create_for_phone(
            actor=manager,
            service_id=haircut.pk,
            staff_id=stylist.pk,
            start=TOMORROW_10,
            phone="055 123 4567",
            name="Walk-in Wafa",
            language="en",
        )

    customer = User.objects.get(phone="+966551234567")
    assert (customer.role, customer.name, customer.preferred_language) == (Role.CUSTOMER, "Walk-in Wafa", "en")
    assert not customer.has_usable_password()
    assert (booking.customer_id, booking.status) == (customer.pk, BookingStatus.PENDING)
    sent = Notification.objects.get(booking=booking, recipient=customer, event="booking_created")
    assert sent.status == "sent" and sent.message.startswith("Your booking request is received for Haircut")


def test_the_desk_finds_a_customer_by_any_form_of_their_phone(now, manager, haircut, stylist, customer):
    customer.phone = "+966551234567"
    customer.save()

    booking = booking_create_for_phone(
        actor=manager, service_id=haircut.pk, staff_id=stylist.pk, start=TOMORROW_10, phone="00966551234567", name="X"
    )

    customer.refresh_from_db()
    assert booking.customer_id == customer.pk and customer.name == "Chris"  # a known customer keeps their name


@pytest.mark.parametrize(
    ("phone", "code"),
    [("0500000003", "phone_not_a_customer"), ("12345", "invalid_phone"), ("0551234567", "slot_taken")],
)
def test_a_refused_desk_booking_leaves_no_customer_behind(now, manager, haircut, stylist, phone, code):
    stylist.phone = "+966500000003"
    stylist.save()
    BookingFactory(service=haircut, staff=stylist, customer=UserFactory(), start=TOMORROW_10)
    people = User.objects.count()

    with pytest.raises(AppError) as refused:
        booking_create_for_phone(
            actor=manager, service_id=haircut.pk, staff_id=stylist.pk, start=TOMORROW_10, phone=phone, name="New"
        )

    assert refused.value.code == code
    assert User.objects.count() == people and Booking.objects.count() == 1


def test_staff_cannot_book_at_the_desk(now, haircut, stylist):
    with pytest.raises(AppError) as refused:
        booking_create_for_phone(
            actor=stylist, service_id=haircut.pk, staff_id=stylist.pk, start=TOMORROW_10, phone="0551234567"
        )

    assert refused.value.code == "action_not_allowed"
    assert not User.objects.filter(phone="+966551234567").exists()
