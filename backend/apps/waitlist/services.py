"""The waiting list: joining it, leaving it, claiming an offered time, and the
scan that closes what ran out. ``offers.py`` makes the offers."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking
from apps.bookings.schedule import day_window, last_bookable_date, local_to_aware
from apps.bookings.services import booking_create
from apps.common.errors import AppError, Conflict, InvalidInput, NotFound, PermissionDenied
from apps.salons.models import MAX_BOOKING_SPAN, Service
from apps.waitlist.error_codes import WaitlistErrorCode as Code
from apps.waitlist.models import ON_THE_LIST, WaitlistEntry, WaitlistOffer, WaitlistStatus

logger = logging.getLogger(__name__)

# Refusals of a claim that mean the offered time is gone for good (the booking rule's, or the clock's).
OFFER_OVER = frozenset(
    {
        Code.OFFER_EXPIRED,
        BookingErrorCode.SLOT_TAKEN,
        BookingErrorCode.START_IN_PAST,
        BookingErrorCode.SALON_CLOSED,
        BookingErrorCode.STAFF_TIME_OFF,
        BookingErrorCode.OUTSIDE_WORKING_HOURS,
        BookingErrorCode.STAFF_DOES_NOT_PERFORM_SERVICE,
        BookingErrorCode.UNKNOWN_STAFF,
        BookingErrorCode.UNKNOWN_SERVICE,
    }
)


def waitlist_entry_create(
    *,
    actor: User,
    service_id: int,
    local_date: date,
    window_start: time,
    window_end: time,
    staff_id: int | None = None,
) -> WaitlistEntry:
    """Put a customer on the waiting list for ``service`` on ``local_date`` (salon
    time), for an appointment inside [window_start, window_end], with ``staff_id``
    or anyone who performs the service. Customers only, for themselves; the day
    must be bookable (today up to the booking horizon); at most
    WAITLIST_ENTRIES_PER_CUSTOMER entries on the list at once."""
    if actor.role != Role.CUSTOMER or actor.is_superuser:
        raise PermissionDenied("Only customers join the waiting list, for themselves.", code=Code.CUSTOMERS_ONLY)
    service = Service.objects.select_related("salon").filter(pk=service_id, is_active=True).first()
    if service is None:
        raise InvalidInput(
            "Unknown service.", code=BookingErrorCode.UNKNOWN_SERVICE, fields={"service": ["Unknown service."]}
        )
    tz = service.salon.tz
    now = timezone.now()
    if not timezone.localtime(now, tz).date() <= local_date <= last_bookable_date(now, tz):
        raise InvalidInput(
            "Choose a day from today up to the booking horizon.",
            code=Code.DAY_NOT_BOOKABLE,
            fields={"date": ["Not a bookable day."]},
        )
    if window_end <= window_start:
        raise InvalidInput(
            "The window must end after it starts.", code=Code.BAD_WINDOW, fields={"window_end": ["Before the start."]}
        )
    if (
        staff_id is not None
        and not service.staff_members.filter(
            pk=staff_id, is_active=True, salon_id=service.salon_id, role__in=[Role.STAFF, Role.MANAGER]
        ).exists()
    ):
        raise InvalidInput(
            "This staff member does not perform this service.",
            code=BookingErrorCode.STAFF_DOES_NOT_PERFORM_SERVICE,
            fields={"staff": ["Does not perform the chosen service."]},
        )
    with transaction.atomic():
        # Counted under the person's row lock: concurrent joins cannot pass the limit.
        User.objects.select_for_update().filter(pk=actor.pk).exists()
        waiting = WaitlistEntry.objects.filter(customer=actor, status__in=ON_THE_LIST).count()
        if waiting >= settings.WAITLIST_ENTRIES_PER_CUSTOMER:
            raise Conflict(f"You are already waiting for {waiting} times; leave one first.", code=Code.TOO_MANY_ENTRIES)
        return WaitlistEntry.objects.create(
            customer=actor,
            salon=service.salon,
            service=service,
            staff_id=staff_id,
            date=local_date,
            window_start=window_start,
            window_end=window_end,
        )


def _locked_entry(entry_id: int, actor: User) -> WaitlistEntry:
    """Lock the entry; one the actor may not see is a 404."""
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("salon", "service", "customer")
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or not (entry.customer_id == actor.pk or _manages(actor, entry)):
        raise NotFound("Waiting list entry not found.")
    return entry


@transaction.atomic
def waitlist_entry_cancel(*, actor: User, entry_id: int) -> WaitlistEntry:
    """Take an entry off the list (its customer, or the salon's manager). Leaving
    twice, or an entry that expired, changes nothing; a booked entry is a 409
    (cancel the booking instead)."""
    entry = _locked_entry(entry_id, actor)
    if entry.status == WaitlistStatus.BOOKED:
        raise Conflict("This entry was booked: cancel the booking instead.", code=Code.ENTRY_BOOKED)
    if entry.on_the_list:
        entry.status = WaitlistStatus.CANCELLED
        entry.save(update_fields=["status", "updated_at"])
    return entry


@dataclass(frozen=True)
class Claimed:
    entry: WaitlistEntry
    booking: Booking


def waitlist_offer_claim(*, actor: User, offer_id: int) -> Claimed:
    """The customer takes an offered time: a booking through ``booking_create`` as
    them, with every rule; the first claim wins (the staff member's row lock, and on
    PostgreSQL the exclusion constraint, decide a race), the others get 409
    ``slot_taken`` and stay on the list. The entry is then ``booked``, and the other
    offers of that time are over (their entries wait again). An offer not yet
    valid, expired, or for an entry no longer on the list is refused; a refused
    claim ends that offer (the entry stays on the list)."""
    offer = WaitlistOffer.objects.filter(pk=offer_id).only("pk", "entry_id").first()
    if offer is None:
        raise NotFound("Offer not found.", code=Code.NO_SUCH_OFFER)
    return _claim(actor=actor, entry_id=offer.entry_id, offer_id=offer.pk)


def waitlist_entry_claim(*, actor: User, entry_id: int, start: datetime) -> Claimed:
    """The API's claim: the entry's offer of ``start`` (an offset-less time is read in
    the salon's zone), as ``waitlist_offer_claim``."""
    entry = WaitlistEntry.objects.select_related("salon").filter(pk=entry_id).first()
    if entry is None or not (entry.customer_id == actor.pk or _manages(actor, entry)):
        raise NotFound("Waiting list entry not found.")
    if timezone.is_naive(start):
        start = local_to_aware(start, entry.salon.tz)
    offer = WaitlistOffer.objects.filter(entry_id=entry.pk, start=start).order_by("-expires_at").first()
    if offer is None:
        raise InvalidInput(
            "No time like that was offered for this entry.", code=Code.NO_SUCH_OFFER, fields={"start": ["Not offered."]}
        )
    return _claim(actor=actor, entry_id=entry.pk, offer_id=offer.pk)


def _manages(actor: User, entry: WaitlistEntry) -> bool:
    return actor.is_superuser or (actor.role == Role.MANAGER and actor.salon_id == entry.salon_id)


def _claim(*, actor: User, entry_id: int, offer_id: int) -> Claimed:
    try:
        with transaction.atomic():
            entry = _locked_entry(entry_id, actor)
            if entry.customer_id != actor.pk:
                raise PermissionDenied("Only the customer can claim their offer.", code=Code.NOT_YOURS)
            offer = WaitlistOffer.objects.get(pk=offer_id, entry=entry)
            now = timezone.now()
            if entry.status == WaitlistStatus.BOOKED:
                raise Conflict("You have already booked from this waiting list entry.", code=Code.ENTRY_BOOKED)
            if not entry.on_the_list:
                raise Conflict(f"This entry is {entry.status}; nothing was booked.", code=Code.ENTRY_CLOSED)
            if now < offer.valid_from:
                raise Conflict("This offer is not valid yet.", code=Code.OFFER_NOT_YET)
            if offer.taken_at is not None:
                message = "This time was taken; you are still on the waiting list."
                raise Conflict(message, code=BookingErrorCode.SLOT_TAKEN)
            if now >= offer.expires_at:
                raise Conflict("This offer has expired; you are still on the waiting list.", code=Code.OFFER_EXPIRED)
            booking = booking_create(
                actor=actor, service_id=entry.service_id, staff_id=offer.staff_id, start=offer.start
            )
            entry.status, entry.booking = WaitlistStatus.BOOKED, booking
            entry.save(update_fields=["status", "booking", "updated_at"])
            _close_offers_overlapping(booking, now=now)
            return Claimed(entry, booking)
    except AppError as exc:
        if exc.code in OFFER_OVER:
            # Taken, gone or expired: this offer is over; the entry stays on the list.
            _close_offer(offer_id)
        raise


def _close_offer(offer_id: int) -> None:
    """A claim found the offer's time gone: the offer is over."""
    now = timezone.now()
    with transaction.atomic():
        closed = WaitlistOffer.objects.filter(pk=offer_id, taken_at__isnull=True, expires_at__gt=now).update(
            taken_at=now
        )
        entry_id = WaitlistOffer.objects.filter(pk=offer_id).values_list("entry_id", flat=True).first()
    if closed and entry_id is not None:
        waitlist_entry_settle(entry_id=entry_id)


def _close_offers_overlapping(booking: Booking, *, now: datetime) -> None:
    """A claim took the time: the other offers of it (or of times it now overlaps)
    are over, and their entries wait again (unless another offer is open)."""
    others = WaitlistOffer.objects.select_related("entry__service").filter(
        staff_id=booking.staff_id,
        start__lt=booking.busy_until,
        start__gt=booking.start - MAX_BOOKING_SPAN,
        expires_at__gt=now,
        taken_at__isnull=True,
    )
    closed = []
    for other in others:
        service = other.entry.service
        ends = other.start + timedelta(minutes=service.duration_minutes + service.buffer_minutes)
        if other.start < booking.busy_until and booking.start < ends:
            closed.append(other)
    WaitlistOffer.objects.filter(pk__in=[o.pk for o in closed]).update(taken_at=now)
    # Their entries are settled after commit: locking another entry while this claim
    # holds the staff member's row would deadlock with a claim holding that entry and
    # waiting for the staff member (two locks taken in opposite orders).
    for entry_id in {o.entry_id for o in closed}:
        transaction.on_commit(partial(waitlist_entry_settle, entry_id=entry_id), robust=True)


@transaction.atomic
def waitlist_entry_settle(*, entry_id: int) -> None:
    """An entry on the list is ``offered`` while it has an offer still open, else ``waiting``."""
    entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id, status__in=ON_THE_LIST).first()
    if entry is None:
        return
    live = entry.offers.filter(expires_at__gt=timezone.now(), taken_at__isnull=True).exists()
    status = WaitlistStatus.OFFERED if live else WaitlistStatus.WAITING
    if entry.status != status:
        entry.status = status
        entry.save(update_fields=["status", "updated_at"])


@dataclass
class ExpireResult:
    back_to_waiting: int = 0
    expired: int = 0


def waitlist_expire_scan() -> ExpireResult:
    """Beat, every minute (``waitlist.expire``): an offered entry whose offers have all
    run out waits again; an entry whose day has ended (salon time) expires. Safe to
    run twice or at once: each change is one conditional UPDATE."""
    now = timezone.now()
    result = ExpireResult()
    live = WaitlistOffer.objects.filter(expires_at__gt=now, taken_at__isnull=True).values("entry_id")
    run_out = WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).exclude(pk__in=live)
    result.back_to_waiting = run_out.update(status=WaitlistStatus.WAITING, updated_at=now)
    # A day ends at a different instant in each zone: narrow by UTC's date, decide per salon.
    candidates = WaitlistEntry.objects.filter(status__in=ON_THE_LIST, date__lte=now.date()).select_related("salon")
    ended = [entry.pk for entry in candidates if day_window(entry.date, entry.salon.tz)[1] <= now]
    if ended:
        result.expired = WaitlistEntry.objects.filter(pk__in=ended, status__in=ON_THE_LIST).update(
            status=WaitlistStatus.EXPIRED, updated_at=now
        )
    if result.back_to_waiting or result.expired:
        logger.info("Waiting list: %s back to waiting, %s expired.", result.back_to_waiting, result.expired)
    return result
