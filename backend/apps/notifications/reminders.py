"""Reminders before appointments: when each one is due, and the scan that writes them.

A booking's reminders follow from its start, its salon's settings and
``Booking.reminders_from`` (when it was made, moved, or its salon's settings
changed): the customer gets one at each offset, the staff member one at the
shortest. A reminder whose moment falls in quiet hours goes out when quiet hours
begin, never later. ``Booking.next_reminder_at`` is the cursor: the scan reads
only bookings whose next reminder is due (a partial index), so its cost follows
what is due, not the number of bookings in the database.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from apps.bookings.models import ACTIVE_STATUSES, Booking
from apps.notifications.models import Audience, Notification, NotificationEvent, SalonNotificationSettings, SkipReason
from apps.notifications.services import build_notification, record_notifications
from apps.notifications.whatsapp_templates import template_notes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedReminder:
    audience: Audience
    offset_minutes: int
    moment: datetime  # the start minus the offset
    send_at: datetime  # the moment, or when quiet hours began if it falls in them


def before_quiet_hours(moment: datetime, *, tz: ZoneInfo, quiet_start: time, quiet_end: time) -> datetime:
    """``moment`` when it is outside quiet hours (salon local time), else the moment
    those quiet hours began: the end of the last allowed window before it."""
    if quiet_start == quiet_end:
        return moment
    local = moment.astimezone(tz)
    clock = local.time()
    if quiet_start < quiet_end:  # e.g. 13:00-15:00, within one day
        if not quiet_start <= clock < quiet_end:
            return moment
        began_on = local.date()
    else:  # e.g. 22:00-08:00, across midnight
        if quiet_end <= clock < quiet_start:
            return moment
        began_on = local.date() if clock >= quiet_start else local.date() - timedelta(days=1)
    return datetime.combine(began_on, quiet_start, tzinfo=tz).astimezone(UTC)


def reminder_plan(booking: Booking, salon_settings: SalonNotificationSettings) -> list[PlannedReminder]:
    """Every reminder of the booking's current time whose moment is not before
    ``reminders_from`` (a booking made 3 hours ahead gets no 24-hour reminder)."""
    offsets = sorted(set(salon_settings.reminder_offsets_minutes), reverse=True)
    tz = booking.salon.tz
    plan = []
    for offset in offsets:
        moment = booking.start - timedelta(minutes=offset)
        if moment < booking.reminders_from:
            continue
        send_at = before_quiet_hours(
            moment, tz=tz, quiet_start=salon_settings.quiet_hours_start, quiet_end=salon_settings.quiet_hours_end
        )
        plan.append(PlannedReminder(Audience.CUSTOMER, offset, moment, send_at))
        # A busy stylist hears once, at the shortest offset.
        if offset == offsets[-1] and booking.staff_id != booking.customer_id:
            plan.append(PlannedReminder(Audience.STAFF, offset, moment, send_at))
    return plan


def next_reminder_at(
    booking: Booking, salon_settings: SalonNotificationSettings, *, after: datetime | None = None
) -> datetime | None:
    """When the booking's next reminder is due (after ``after`` if given); None if none is left."""
    if booking.status not in ACTIVE_STATUSES:
        return None
    return _first_send_at(reminder_plan(booking, salon_settings), after=after)


def _first_send_at(plan: list[PlannedReminder], *, after: datetime | None) -> datetime | None:
    return min((item.send_at for item in plan if after is None or item.send_at > after), default=None)


def booking_reminders_replan(booking: Booking, *, now: datetime) -> None:
    """Plan the reminders of a booking just made or moved (the caller saves it):
    only moments from now on count."""
    booking.reminders_from = now
    booking.next_reminder_at = next_reminder_at(booking, SalonNotificationSettings.for_salon(booking.salon))


@transaction.atomic
def salon_reminders_replan(*, salon_id: int) -> int:
    """After a salon's message settings changed: plan again the reminders of its
    active future bookings, from now on. Returns how many bookings were planned."""
    now = timezone.now()
    bookings = list(
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon__notification_settings")
        .filter(salon_id=salon_id, status__in=ACTIVE_STATUSES, start__gt=now)
    )
    for booking in bookings:
        booking_reminders_replan(booking, now=now)
    Booking.objects.bulk_update(bookings, ["reminders_from", "next_reminder_at"], batch_size=500)
    return len(bookings)


@dataclass
class ReminderScanResult:
    bookings: int = 0
    written: int = 0
    skipped: int = 0


def reminder_scan(*, batch_size: int = 500) -> ReminderScanResult:
    """Write every reminder that is due now, once, through the outbox.

    Bookings whose ``next_reminder_at`` has come are locked (others' locks are
    skipped, so two scans at once share the work instead of doubling it), their
    due reminders written (``skipped`` with the reason when quiet hours left no
    moment or the appointment has started), and the cursor moved to the next
    reminder. A rerun, or a scan killed mid-way (its transaction rolls back),
    writes nothing twice: rows are also unique per booking, recipient, move and
    offset. Constant queries per batch, whatever the size of the database.
    """
    now = timezone.now()
    result = ReminderScanResult()
    while True:
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(next_reminder_at__lte=now)
                .select_related("salon__notification_settings", "service", "customer", "staff")
                .order_by("next_reminder_at", "id")[:batch_size]
            )
            if not due:
                break
            rows = _due_reminders(due, now)
            record_notifications(rows)
            Booking.objects.bulk_update(due, ["next_reminder_at"])
        result.bookings += len(due)
        result.written += len(rows)
        result.skipped += sum(1 for row in rows if row.reason)
        if len(due) < batch_size:
            break
    if result.written:
        logger.info("Reminder scan: %s reminder(s) for %s booking(s).", result.written, result.bookings)
    return result


def _due_reminders(bookings: list[Booking], now: datetime) -> list[Notification]:
    """The reminder rows due now for these (locked) bookings, minus those already
    written; moves each booking's cursor to its next reminder."""
    written = set(
        Notification.objects.filter(booking__in=bookings, event=NotificationEvent.BOOKING_REMINDER).values_list(
            "booking_id", "recipient_id", "sequence", "reminder_offset_minutes"
        )
    )
    rows = []
    notes = template_notes()  # one read for the whole batch
    for booking in bookings:
        salon_settings = SalonNotificationSettings.for_salon(booking.salon)
        plan = reminder_plan(booking, salon_settings) if booking.status in ACTIVE_STATUSES else []
        for item in plan:
            recipient = booking.customer if item.audience == Audience.CUSTOMER else booking.staff
            key = (booking.pk, recipient.pk, booking.reschedule_count, item.offset_minutes)
            if item.send_at > now or key in written:
                continue
            skip_reason = ""
            if item.send_at < booking.reminders_from:
                skip_reason = SkipReason.QUIET_HOURS
            elif now >= booking.start:
                skip_reason = SkipReason.APPOINTMENT_STARTED
            rows.append(
                build_notification(
                    booking,
                    recipient,
                    NotificationEvent.BOOKING_REMINDER,
                    sequence=booking.reschedule_count,
                    reminder_offset_minutes=item.offset_minutes,
                    skip_reason=skip_reason,
                    template_notes=notes,
                )
            )
        booking.next_reminder_at = _first_send_at(plan, after=now)
    return rows
