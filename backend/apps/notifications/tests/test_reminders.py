"""Reminders before the appointment: each at its moment, once, never for a booking
that is over, following moves, before quiet hours. The beat is simulated minute
by minute under a controlled clock; the console provider sends."""

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import RIYADH, StaffFactory, UserFactory
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.models import Notification, NotificationStatus, SalonNotificationSettings, SkipReason
from apps.notifications.reminders import before_quiet_hours, reminder_scan

pytestmark = pytest.mark.django_db

REMINDER = "booking_reminder"
BEAT = timedelta(minutes=1)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


def _book(api, customer, service, staff, start: datetime) -> int:
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": service.pk, "staff": staff.pk, "start": start.isoformat()}
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _beat_until(clock, until: datetime, capture) -> None:
    """Run the reminder scan once a minute, as Celery beat does, up to ``until``."""
    while timezone.now() < until:
        clock.shift(BEAT)
        with capture(execute=True):
            reminder_scan()


def _reminders(booking_id):
    return list(Notification.objects.filter(booking_id=booking_id, event=REMINDER).order_by("created_at", "id"))


def _summary(rows):
    return [(row.recipient_id, row.sequence, row.reminder_offset_minutes) for row in rows]


def test_a_booking_30_hours_ahead_gets_each_reminder_once_at_its_moment(
    api, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    start = _local("2026-03-01T14:00")  # NOW is 2026-02-28 08:00 Riyadh: 30 hours ahead
    booking_id = _book(api, customer, haircut, stylist, start)

    _beat_until(now, start + timedelta(hours=1), django_capture_on_commit_callbacks)

    rows = _reminders(booking_id)
    assert _summary(rows) == [(customer.pk, 0, 1440), (customer.pk, 0, 120), (stylist.pk, 0, 120)]
    expected_at = [start - timedelta(hours=24), start - timedelta(hours=2), start - timedelta(hours=2)]
    for row, moment in zip(rows, expected_at, strict=True):
        assert moment <= row.created_at < moment + BEAT  # within one beat interval
        assert row.status == NotificationStatus.SENT and moment <= row.sent_at < moment + BEAT
    assert rows[0].message == "Reminder: your booking for Haircut at Main Salon is on 2026-03-01 14:00."
    assert rows[2].message == "تذكير: موعد Chris لخدمة قص الشعر في الصالون الرئيسي بتاريخ 2026-03-01 14:00."


def test_a_cancelled_booking_gets_no_more_reminders(
    api, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    start = _local("2026-03-01T14:00")
    booking_id = _book(api, customer, haircut, stylist, start)
    _beat_until(now, start - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert _summary(_reminders(booking_id)) == [(customer.pk, 0, 1440)]

    cancelled = api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"status": "cancelled"})
    _beat_until(now, start + timedelta(hours=1), django_capture_on_commit_callbacks)

    assert cancelled.status_code == 200
    assert _summary(_reminders(booking_id)) == [(customer.pk, 0, 1440)]
    assert Booking.objects.get(pk=booking_id).next_reminder_at is None


def test_a_reminder_written_before_a_cancellation_is_not_sent_after_it(api, now, customer, haircut, stylist):
    start = _local("2026-03-01T14:00")
    booking_id = _book(api, customer, haircut, stylist, start)
    now.move_to(start - timedelta(hours=24))
    reminder_scan()  # written, not yet delivered (no worker ran)
    (row,) = _reminders(booking_id)
    assert row.status == NotificationStatus.PENDING

    api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"status": "cancelled"})
    notification_deliver(notification_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.BOOKING_NOT_ACTIVE)
    assert row.attempts == 0


def test_a_moved_booking_is_reminded_of_its_new_time(
    api, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    start = _local("2026-03-01T14:00")
    booking_id = _book(api, customer, haircut, stylist, start)
    _beat_until(now, start - timedelta(hours=23), django_capture_on_commit_callbacks)  # 24-hour reminder sent

    new_start = _local("2026-03-02T14:00")
    moved = api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"start": new_start.isoformat()})
    _beat_until(now, new_start + timedelta(hours=1), django_capture_on_commit_callbacks)

    assert moved.status_code == 200
    rows = _reminders(booking_id)
    assert _summary(rows) == [
        (customer.pk, 0, 1440),
        (customer.pk, 1, 1440),
        (customer.pk, 1, 120),
        (stylist.pk, 1, 120),
    ]
    assert all(row.status == NotificationStatus.SENT for row in rows)
    assert rows[1].message.endswith("is on 2026-03-02 14:00.")
    assert new_start - timedelta(hours=24) <= rows[1].created_at < new_start - timedelta(hours=24) + BEAT


def test_a_booking_made_three_hours_ahead_gets_only_the_two_hour_reminders(
    api, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    start = _local("2026-02-28T11:00")  # NOW is 08:00
    booking_id = _book(api, customer, haircut, stylist, start)

    _beat_until(now, start, django_capture_on_commit_callbacks)

    assert _summary(_reminders(booking_id)) == [(customer.pk, 0, 120), (stylist.pk, 0, 120)]


def test_a_reminder_due_in_quiet_hours_goes_out_when_they_begin(
    api, now, customer, haircut, django_capture_on_commit_callbacks
):
    night_owl = StaffFactory(salon=haircut.salon, services=[haircut], hours=[(time(0, 0), time(23, 59))])
    start = _local("2026-03-01T01:30")  # the 2-hour reminder's moment is 23:30, in quiet hours (22:00-08:00)
    booking_id = _book(api, customer, haircut, night_owl, start)

    _beat_until(now, start, django_capture_on_commit_callbacks)

    rows = _reminders(booking_id)
    assert _summary(rows) == [(customer.pk, 0, 120), (night_owl.pk, 0, 120)]
    ten_pm = _local("2026-02-28T22:00")
    assert all(ten_pm <= row.sent_at < ten_pm + BEAT for row in rows)


def test_with_no_allowed_moment_left_the_reminder_is_skipped_with_the_reason(
    api, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    now.move_to(_local("2026-02-28T23:00"))
    start = _local("2026-03-01T09:00")  # 2-hour moment 07:00 is quiet; quiet hours began at 22:00, before booking
    booking_id = _book(api, customer, haircut, stylist, start)

    _beat_until(now, start, django_capture_on_commit_callbacks)

    rows = _reminders(booking_id)
    assert [(row.status, row.reason) for row in rows] == [(NotificationStatus.SKIPPED, SkipReason.QUIET_HOURS)] * 2
    assert all(row.attempts == 0 for row in rows)


def test_a_salons_own_settings_apply_and_a_change_replans_its_bookings(
    api, admin_client, now, customer, haircut, stylist, django_capture_on_commit_callbacks
):
    start = _local("2026-03-01T14:00")
    booking_id = _book(api, customer, haircut, stylist, start)
    response = admin_client.post(
        "/admin/notifications/salonnotificationsettings/add/",
        {
            "salon": haircut.salon_id,
            "reminder_offsets_minutes": "180, 30",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:00",
            "send_completed": "on",
            "send_no_show": "on",
        },
    )
    assert response.status_code == 302, response.content[:400]
    assert Booking.objects.get(pk=booking_id).next_reminder_at == start - timedelta(hours=3)

    _beat_until(now, start, django_capture_on_commit_callbacks)

    assert _summary(_reminders(booking_id)) == [(customer.pk, 0, 180), (customer.pk, 0, 30), (stylist.pk, 0, 30)]


def test_the_settings_form_refuses_nonsense_offsets(admin_client, salon):
    response = admin_client.post(
        "/admin/notifications/salonnotificationsettings/add/",
        {"salon": salon.pk, "reminder_offsets_minutes": "1440, soon", "quiet_hours_start": "22:00"},
    )

    assert response.status_code == 200 and "whole minutes" in response.content.decode()
    assert not SalonNotificationSettings.objects.exists()


def test_a_rerun_or_a_rolled_back_scan_writes_each_reminder_once(api, now, customer, haircut, stylist):
    start = _local("2026-03-01T14:00")
    booking_id = _book(api, customer, haircut, stylist, start)
    now.move_to(start - timedelta(hours=2))

    with pytest.raises(RuntimeError), transaction.atomic():
        reminder_scan()
        raise RuntimeError("the worker died before the scan committed")
    assert _reminders(booking_id) == []

    first = reminder_scan()
    Booking.objects.filter(pk=booking_id).update(next_reminder_at=start - timedelta(days=2))  # cursor wound back
    second = reminder_scan()
    third = reminder_scan()

    assert first.written == 3 and second.written == 0 and third.bookings == 0
    assert len(_reminders(booking_id)) == 3


@pytest.mark.parametrize(
    ("local_moment", "expected"),
    [
        ("2026-02-28T21:59", "2026-02-28T21:59"),
        ("2026-02-28T22:00", "2026-02-28T22:00"),
        ("2026-02-28T23:30", "2026-02-28T22:00"),
        ("2026-03-01T03:00", "2026-02-28T22:00"),
        ("2026-03-01T07:59", "2026-02-28T22:00"),
        ("2026-03-01T08:00", "2026-03-01T08:00"),
    ],
)
def test_quiet_hours_across_midnight(local_moment, expected):
    moved = before_quiet_hours(_local(local_moment), tz=RIYADH, quiet_start=time(22), quiet_end=time(8))

    assert moved == _local(expected)


def test_quiet_hours_within_a_day_and_none():
    assert before_quiet_hours(
        _local("2026-03-01T14:00"), tz=RIYADH, quiet_start=time(13), quiet_end=time(15)
    ) == _local("2026-03-01T13:00")
    assert before_quiet_hours(_local("2026-03-01T23:00"), tz=RIYADH, quiet_start=time(8), quiet_end=time(8)) == _local(
        "2026-03-01T23:00"
    )


# --- cost and concurrency -----------------------------------------------------------------
def _bulk_bookings(count: int, *, service, staff, customer, start: datetime, due: datetime | None):
    """Bookings written directly (no rules), back to back (30 minutes) from ``start``."""
    rows = [
        Booking(
            salon_id=service.salon_id,
            service=service,
            customer=customer,
            staff=staff,
            start=start + timedelta(minutes=30 * index),
            end=start + timedelta(minutes=30 * index + 30),
            busy_until=start + timedelta(minutes=30 * index + 30),
            status=BookingStatus.CONFIRMED,
            reminders_from=start - timedelta(days=30),
            next_reminder_at=due,
        )
        for index in range(count)
    ]
    Booking.objects.bulk_create(rows, batch_size=5000)


def _scan_queries(now_fixture, due_at) -> int:
    now_fixture.move_to(due_at)
    with CaptureQueriesContext(connection) as queries:
        result = reminder_scan()
    # 10 bookings every 30 minutes from 2 hours ahead: ten 24-hour reminders, and
    # the first booking's 2-hour reminders to customer and staff.
    assert result.written == 12
    return len(queries)


def test_a_scan_costs_the_same_with_100000_bookings_in_the_database_as_with_10(now, haircut):
    staff = StaffFactory(salon=haircut.salon, services=[haircut])
    customer = UserFactory()
    soon = _local("2026-03-05T12:00")
    _bulk_bookings(10, service=haircut, staff=staff, customer=customer, start=soon, due=soon - timedelta(hours=2))
    small = _scan_queries(now, soon - timedelta(hours=2))

    Booking.objects.update(next_reminder_at=soon - timedelta(hours=2))
    Notification.objects.all().delete()
    past = _local("2023-01-01T09:00")
    _bulk_bookings(50_000, service=haircut, staff=staff, customer=customer, start=past, due=None)
    _bulk_bookings(49_990, service=haircut, staff=staff, customer=customer, start=_local("2026-04-01T09:00"), due=None)
    assert Booking.objects.count() == 100_000
    large = _scan_queries(now, soon - timedelta(hours=2))

    assert large == small


def test_the_scan_reads_the_partial_index_on_postgresql(postgres, now, haircut):
    staff = StaffFactory(salon=haircut.salon, services=[haircut])
    _bulk_bookings(
        20_000, service=haircut, staff=staff, customer=UserFactory(), start=_local("2026-04-01T09:00"), due=None
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")

    plan = (
        Booking.objects.filter(next_reminder_at__lte=timezone.now()).order_by("next_reminder_at", "id")[:500].explain()
    )

    assert "booking_next_reminder" in plan, plan


def test_two_beats_at_the_same_moment_write_one_row_per_reminder(postgres, now, haircut):
    staff = StaffFactory(salon=haircut.salon, services=[haircut])
    start = _local("2026-03-02T12:00")
    _bulk_bookings(40, service=haircut, staff=staff, customer=UserFactory(), start=start, due=start - timedelta(days=1))
    now.move_to(start - timedelta(hours=2))  # every 24-hour reminder is due, and the first booking's 2-hour ones
    barrier = threading.Barrier(2)
    results, errors = [], []

    def beat():
        try:
            barrier.wait()
            results.append(reminder_scan(batch_size=7))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    rows = Notification.objects.filter(event=REMINDER)
    keys = list(rows.values_list("booking_id", "recipient_id", "sequence", "reminder_offset_minutes"))
    assert len(keys) == len(set(keys)) == sum(result.written for result in results) == 42
    assert rows.filter(reminder_offset_minutes=1440).count() == 40
