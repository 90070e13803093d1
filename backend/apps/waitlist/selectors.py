"""Reading the waiting list: whose entries a person sees, and whether an offer still stands."""

from datetime import datetime, timedelta

from django.db.models import QuerySet

from apps.accounts.models import Role, User
from apps.bookings.schedule import load_staff_days, slot_problem
from apps.waitlist.models import WaitlistEntry, WaitlistOffer


def waitlist_entry_list(*, user: User) -> QuerySet[WaitlistEntry]:
    """The entries ``user`` may see: a manager their salon's, a superuser all,
    anyone else their own."""
    entries = WaitlistEntry.objects.select_related("salon", "service", "staff", "booking")
    if user.is_superuser:
        return entries
    if user.role == Role.MANAGER:
        return entries.filter(salon_id=user.salon_id)
    return entries.filter(customer=user)


def offer_slot_problem(offer: WaitlistOffer, now: datetime) -> str | None:
    """Why the offered time cannot be booked for the entry's service now (the booking
    rule's code, ``schedule.slot_problem``), or None while it can."""
    service = offer.entry.service
    tz = offer.entry.salon.tz
    end = offer.start + timedelta(minutes=service.duration_minutes)
    busy_until = end + timedelta(minutes=service.buffer_minutes)
    day = load_staff_days(
        staff_ids=[offer.staff_id],
        salon_id=offer.entry.salon_id,
        local_date=offer.start.astimezone(tz).date(),
        tz=tz,
        reach=busy_until - offer.start,
    )[offer.staff_id]
    return slot_problem(day, tz=tz, start=offer.start, end=end, busy_until=busy_until, now=now)


def offer_is_open(offer: WaitlistOffer, now: datetime) -> bool:
    """Whether an offer may still be claimed: not expired, its entry still on the
    list, and its time still bookable."""
    return (
        offer.taken_at is None
        and now < offer.expires_at
        and offer.entry.on_the_list
        and offer_slot_problem(offer, now) is None
    )
