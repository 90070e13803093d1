"""Offering freed time to the waiting list: the one writer of ``WaitlistOffer``.

Called in the transaction that frees the time (a booking cancelled or declined,
moved away: ``bookings.services``; time off or a closure removed: the admin), so
an offer and its message commit with the change that caused them. Every entry on
the list that the time fits is offered it at once, oldest first: same salon and
local day, the entry's staff member (or anyone who performs its service), the
service's whole appointment inside the entry's window, and the one bookability
rule (``schedule.slot_problem``) passing for the entry's service. The first claim
wins (``services.waitlist_offer_claim`` through ``booking_create``).
"""

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Q

from apps.bookings.models import Booking
from apps.bookings.schedule import (
    StaffDay,
    day_window,
    free_starts,
    last_bookable_date,
    load_staff_days,
    open_candidates,
    slot_problem,
)
from apps.notifications.models import SalonNotificationSettings
from apps.notifications.services import send_waitlist_offer
from apps.salons.models import MAX_BOOKING_SPAN, Service
from apps.waitlist.models import ON_THE_LIST, WaitlistEntry, WaitlistOffer, WaitlistStatus

logger = logging.getLogger(__name__)


def after_quiet_hours(moment: datetime, *, tz, quiet_start: time, quiet_end: time) -> datetime:
    """``moment`` when it is outside quiet hours (salon local time), else when they end."""
    if quiet_start == quiet_end:
        return moment
    local = moment.astimezone(tz)
    clock = local.time()
    if quiet_start < quiet_end:  # within one day, e.g. 13:00-15:00
        if not quiet_start <= clock < quiet_end:
            return moment
        ends_on = local.date()
    else:  # across midnight, e.g. 22:00-08:00
        if quiet_end <= clock < quiet_start:
            return moment
        ends_on = local.date() if clock < quiet_end else local.date() + timedelta(days=1)
    return datetime.combine(ends_on, quiet_end, tzinfo=tz).astimezone(UTC)


def _entries_for(*, salon_id: int, local_date: date, staff_id: int):
    """Entries on the list for the salon and day that this staff member could serve, oldest first."""
    performed = Service.objects.filter(staff_members=staff_id, is_active=True).values("pk")
    return (
        WaitlistEntry.objects.select_related("customer", "service", "salon__notification_settings", "staff")
        .filter(salon_id=salon_id, date=local_date, status__in=ON_THE_LIST, service__in=performed)
        .filter(Q(staff_id=staff_id) | Q(staff__isnull=True))
        .order_by("created_at", "id")
    )


def _slot(entry: WaitlistEntry, start: datetime) -> tuple[datetime, datetime]:
    end = start + timedelta(minutes=entry.service.duration_minutes)
    return end, end + timedelta(minutes=entry.service.buffer_minutes)


def _in_window(entry: WaitlistEntry, start: datetime, end: datetime) -> bool:
    tz = entry.salon.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return (
        local_start.date() == entry.date == local_end.date()
        and entry.window_start <= local_start.time()
        and local_end.time() <= entry.window_end
    )


def _fits(entry: WaitlistEntry, day: StaffDay, start: datetime, now: datetime) -> bool:
    end, busy_until = _slot(entry, start)
    return _in_window(entry, start, end) and (
        slot_problem(day, tz=entry.salon.tz, start=start, end=end, busy_until=busy_until, now=now) is None
    )


def _offer(*, entry: WaitlistEntry, freed_booking: Booking, staff_id: int, start: datetime, now: datetime):
    """Write the offer and its message (once per entry, freed booking and start)."""
    salon_settings = SalonNotificationSettings.for_salon(entry.salon)
    valid_from = after_quiet_hours(
        now, tz=entry.salon.tz, quiet_start=salon_settings.quiet_hours_start, quiet_end=salon_settings.quiet_hours_end
    )
    expires_at = min(valid_from + timedelta(minutes=settings.WAITLIST_OFFER_MINUTES), start)
    if expires_at <= valid_from:
        return None  # freed in quiet hours that end after it starts: nobody could come
    offer, created = WaitlistOffer.objects.get_or_create(
        entry=entry,
        freed_booking=freed_booking,
        start=start,
        defaults={"staff_id": staff_id, "valid_from": valid_from, "expires_at": expires_at},
    )
    if not created:
        return None
    if entry.status != WaitlistStatus.OFFERED:
        entry.status = WaitlistStatus.OFFERED
        entry.save(update_fields=["status", "updated_at"])
    send_waitlist_offer(offer)
    return offer


def waitlist_offer_freed_slot(
    *, booking: Booking, staff_id: int, start: datetime, now: datetime
) -> list[WaitlistOffer]:
    """``booking`` no longer holds ``start`` with ``staff_id`` (it was cancelled,
    declined, or moved away from it; already saved): offer that start to every entry
    it fits, oldest first. One query when nobody waits for that day."""
    if start <= now:
        return []
    salon = booking.salon
    tz = salon.tz
    local_date = start.astimezone(tz).date()
    entries = [
        entry
        for entry in _entries_for(salon_id=salon.pk, local_date=local_date, staff_id=staff_id)
        if entry.customer_id != booking.customer_id
    ]
    if not entries:
        return []
    day = load_staff_days(
        staff_ids=[staff_id], salon_id=salon.pk, local_date=local_date, tz=tz, reach=MAX_BOOKING_SPAN
    )[staff_id]
    offers = [
        _offer(entry=entry, freed_booking=booking, staff_id=staff_id, start=start, now=now)
        for entry in entries
        if _fits(entry, day, start, now)
    ]
    return [offer for offer in offers if offer is not None]


def waitlist_offer_freed_period(
    *, salon, staff_ids: list[int], start: datetime, end: datetime, now: datetime
) -> list[WaitlistOffer]:
    """Time off (or a closure) over [start, end) was removed: each entry on the list
    for those days that these staff members could serve is offered the earliest free
    start of its window that the removal freed. An offer is filed under the staff
    member's booking nearest to it that day (a message belongs to a booking); with
    no booking that day there is nothing to file it under, and no offer is made
    (the times show in availability)."""
    tz = salon.tz
    first_day = max(start, now).astimezone(tz).date()
    last_day = min((end - timedelta(microseconds=1)).astimezone(tz).date(), last_bookable_date(now, tz))
    offers = []
    step = timedelta(minutes=settings.AVAILABILITY_STEP_MINUTES)
    local_date = first_day
    while local_date <= last_day:
        for staff_id in staff_ids:
            offers += _offer_period_day(salon, staff_id, local_date, start, end, now, step)
        local_date += timedelta(days=1)
    return offers


def _offer_period_day(salon, staff_id, local_date, start, end, now, step) -> list[WaitlistOffer]:
    tz = salon.tz
    entries = list(_entries_for(salon_id=salon.pk, local_date=local_date, staff_id=staff_id))
    if not entries:
        return []
    day = load_staff_days(
        staff_ids=[staff_id], salon_id=salon.pk, local_date=local_date, tz=tz, reach=MAX_BOOKING_SPAN
    )[staff_id]
    first, last = day_window(local_date, tz)
    nearby = list(Booking.objects.filter(staff_id=staff_id, start__gte=first, start__lt=last).order_by("start"))
    offers = []
    for entry in entries:
        duration = timedelta(minutes=entry.service.duration_minutes)
        buffer = timedelta(minutes=entry.service.buffer_minutes)
        candidates = open_candidates(
            tuple(sorted(day.hours)), local_date=local_date, tz=tz, step=step, duration=duration, buffer=buffer, now=now
        )
        freed = [
            c
            for c in free_starts(day, candidates)
            if c.start < end and start < c.end and _in_window(entry, c.start, c.end)
        ]
        if not freed:
            continue
        anchor = min(nearby, key=lambda b: abs(b.start - freed[0].start), default=None)
        if anchor is None:
            logger.info("Waiting list entry %s: freed time but no booking to file the offer under", entry.pk)
            continue
        offer = _offer(entry=entry, freed_booking=anchor, staff_id=staff_id, start=freed[0].start, now=now)
        if offer is not None:
            offers.append(offer)
    return offers
