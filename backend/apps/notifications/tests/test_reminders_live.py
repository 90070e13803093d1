"""`manage.py send_due_reminders` as cron or an operator runs it: the command exits
right after its scan commits, and what it wrote is on the broker by then, not left
to the sweep. No beat runs here, so only the command's own publish can bring the
reminders to the worker started after it exited.

Skipped without PostgreSQL, Redis and libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

from datetime import date, datetime, timedelta

import pytest

from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.common.tests.live import run_manage, wait_for
from apps.notifications.models import Notification, NotificationStatus

pytestmark = pytest.mark.services


def test_the_reminders_a_command_writes_reach_the_broker_before_it_exits(stack, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon")
    omar = StaffFactory(salon=haircut.salon, services=[haircut], name="Omar", preferred_language="en")
    customers = [UserFactory(name=f"Customer {n}", preferred_language="en") for n in range(3)]
    day = date.today() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 14, 0, tzinfo=RIYADH)
    for n, customer in enumerate(customers):
        at = start + timedelta(hours=n)
        BookingFactory(
            service=haircut,
            staff=omar,
            customer=customer,
            start=at,
            reminders_from=at - timedelta(days=30),  # booked a month ago
            next_reminder_at=at - timedelta(hours=24),
        )
    clock = fake_clock(start - timedelta(hours=23, minutes=59))  # each customer's 24-hour reminder is due
    with FakeTwilio() as twilio:
        env = stack.env(twilio, clock.env(), NOTIFICATION_SMS_PROVIDER="twilio")

        assert run_manage(env, "send_due_reminders").strip() == "Wrote 1 reminder(s) for 1 booking(s) (0 skipped)."
        clock.set(start + timedelta(hours=2) - timedelta(hours=23, minutes=59))
        assert run_manage(env, "send_due_reminders").strip() == "Wrote 2 reminder(s) for 2 booking(s) (0 skipped)."
        assert Notification.objects.filter(event="booking_reminder", status=NotificationStatus.PENDING).count() == 3

        stack.worker(env)  # after both commands exited; no beat, so no sweep

        for customer, hour in zip(customers, (14, 15, 16), strict=True):
            (sms,) = wait_for(lambda c=customer: twilio.sms_to(c.phone), timeout=30, what=f"{customer.name}'s reminder")
            assert sms.body == f"Reminder: your booking for Haircut at Main Salon is on {day.isoformat()} {hour}:00."
        assert twilio.sms_to(omar.phone) == []  # the staff member's reminder is two hours ahead, not due yet
