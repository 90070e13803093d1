"""The staff member's day: at ``SalonNotificationSettings.staff_agenda_time`` (salon
time, default 21:00) each staff member with bookings the next day gets one
``staff_agenda`` message listing them in order (time, service, customer's first
name), in their language, on their channel. Nobody with an empty day is messaged.
Changes after it are told by the booking messages themselves.

An agenda time inside quiet hours moves back to when they begin (as reminders do);
a scan that runs late, inside quiet hours, records the agenda as ``skipped``
(``quiet_hours``). Once per staff member and day: the database refuses a second
row (``notification_agenda_once_per_staff_and_day``), so two beats or a rerun of
``manage.py send_staff_agendas`` send nothing more.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.bookings.models import ACTIVE_STATUSES, Booking
from apps.bookings.schedule import day_window
from apps.notifications.models import Notification, NotificationEvent, SalonNotificationSettings, SkipReason
from apps.notifications.reminders import before_quiet_hours
from apps.notifications.services import send_staff_agenda
from apps.salons.models import Salon

logger = logging.getLogger(__name__)


@dataclass
class AgendaScanResult:
    salons: int = 0
    written: int = 0
    skipped: int = 0


def agenda_due_at(salon: Salon, salon_settings: SalonNotificationSettings, now: datetime) -> datetime:
    """When today's agenda (for tomorrow) is due at this salon: its agenda time, or
    the start of quiet hours when that time falls in them."""
    tz = salon.tz
    today = now.astimezone(tz).date()
    moment = datetime.combine(today, salon_settings.staff_agenda_time, tzinfo=tz)
    return before_quiet_hours(
        moment, tz=tz, quiet_start=salon_settings.quiet_hours_start, quiet_end=salon_settings.quiet_hours_end
    )


def agenda_scan(*, now: datetime | None = None, before_time: bool = False) -> AgendaScanResult:
    """Write every agenda that is due and not yet written (beat ``notifications.agenda``,
    every minute; ``manage.py send_staff_agendas``). ``before_time``: tomorrow's
    agendas now, even before the salons' agenda time (still once per staff member
    and day). Returns what it did."""
    now = now or timezone.now()
    result = AgendaScanResult()
    for salon in Salon.objects.select_related("notification_settings").order_by("pk"):
        salon_settings = SalonNotificationSettings.for_salon(salon)
        if not before_time and now < agenda_due_at(salon, salon_settings, now):
            continue
        result.salons += 1
        tz = salon.tz
        day = now.astimezone(tz).date() + timedelta(days=1)
        first, last = day_window(day, tz)
        bookings = (
            Booking.objects.filter(salon=salon, status__in=ACTIVE_STATUSES, start__gte=first, start__lt=last)
            .select_related("salon", "service", "customer", "staff")
            .order_by("staff_id", "start", "id")
        )
        done = set(
            Notification.objects.filter(
                event=NotificationEvent.STAFF_AGENDA, agenda_date=day, booking__salon=salon, fallback_of__isnull=True
            ).values_list("recipient_id", flat=True)
        )
        by_staff: dict[int, list[Booking]] = {}
        for booking in bookings:
            if booking.staff_id not in done and booking.staff.is_active:
                by_staff.setdefault(booking.staff_id, []).append(booking)
        in_quiet_hours = (
            before_quiet_hours(
                now, tz=tz, quiet_start=salon_settings.quiet_hours_start, quiet_end=salon_settings.quiet_hours_end
            )
            != now
        )
        for their in by_staff.values():
            with transaction.atomic():
                row = send_staff_agenda(
                    staff=their[0].staff,
                    day=day,
                    bookings=their,
                    skip_reason=SkipReason.QUIET_HOURS if in_quiet_hours else "",
                )
            result.written += 1
            result.skipped += row.status == "skipped"
    if result.written:
        logger.info("Agenda scan: %s agenda(s) at %s salon(s).", result.written, result.salons)
    return result
