"""`make run` loads the demo data and `make demo` walks the lifecycle over it."""

import io

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.notifications.models import Notification, NotificationStatus
from apps.salons.models import Salon, Service, WorkingHours

pytestmark = pytest.mark.django_db(transaction=True)


def test_load_demo_is_idempotent_and_matches_the_spec():
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())

    salon = Salon.objects.get()
    assert (salon.name, salon.time_zone) == ("Main Salon", "Asia/Riyadh") and salon.name_ar
    haircut = Service.objects.get()
    assert (haircut.name, haircut.duration_minutes) == ("Haircut", 30) and haircut.name_ar
    people = {u.phone: (u.role, u.preferred_language) for u in User.objects.all()}
    assert people == {
        "+966500000001": ("manager", "en"),
        "+966500000002": ("customer", "en"),
        "+966500000003": ("staff", "ar"),
    }
    staff = User.objects.get(phone="+966500000003")
    assert list(haircut.staff_members.all()) == [staff]
    hours = WorkingHours.objects.filter(staff=staff)
    assert hours.count() == 7
    assert {(h.start_time.hour, h.end_time.hour) for h in hours} == {(9, 21)}


def test_demo_walks_a_booking_through_its_lifecycle_printing_the_messages():
    call_command("load_demo", stdout=io.StringIO())
    out = io.StringIO()

    call_command("demo_lifecycle", "--phone", "0555000777", stdout=out)

    text = out.getvalue()
    assert "console provider: OTP SMS to 0555000777: Your booking request is received for Haircut at Main Salon" in text
    assert "console provider: OTP SMS to 0500000003: " in text
    booking = Booking.objects.get(customer__phone="+966555000777")
    assert booking.status == BookingStatus.CANCELLED
    rows = Notification.objects.filter(booking=booking)
    assert rows.count() == 6
    assert set(rows.values_list("status", flat=True)) == {NotificationStatus.SENT}
