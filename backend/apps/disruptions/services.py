"""Disruptions: a closure or time off over existing bookings.

``closure_create`` and ``time_off_create`` (the API) write the closure or time
off; ``closure_disrupt`` and ``time_off_disrupt`` (also called by the admin after
it saves one) find the bookings it catches and, in the same transaction, for
each: a ``BookingDisruption`` and one ``booking_disrupted`` message to the
customer with up to three other times (buttons) and "Cancel"; a booking too close
to its start to wait for an answer is cancelled at once. Each staff member whose
appointments are caught hears once, in one message. ``disruption_deadline_scan``
(beat) cancels what nobody answered for, DISRUPTION_CANCEL_BEFORE_MINUTES before
its start, with the reason ``salon_closed``.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from apps.bookings.schedule import day_window, load_staff_days, local_to_aware, slot_problem
from apps.bookings.services import booking_cancel_by_salon, booking_change_status, booking_move
from apps.common.errors import InvalidInput, NotFound, PermissionDenied
from apps.disruptions.alternatives import Alternative, AlternativeFinder
from apps.disruptions.error_codes import DisruptionErrorCode as Code
from apps.disruptions.models import SALON_CLOSED, BookingDisruption, DisruptionCause, DisruptionOutcome
from apps.notifications.links import disruption_link
from apps.notifications.reminders import booking_reminders_replan
from apps.notifications.services import send_disruption_notice, send_disruption_summary
from apps.salons.models import MAX_BOOKING_SPAN, Salon, SalonClosure, StaffTimeOff

logger = logging.getLogger(__name__)

# A closure or time off longer than this is refused (a typing error, not a holiday).
LONGEST_PERIOD = timedelta(days=366)


@dataclass
class AffectedBooking:
    """A booking a closure or time off caught, and what was done about it."""

    booking: Booking
    disruption: BookingDisruption
    alternatives: list[Alternative] = field(default_factory=list)
    already_disrupted: bool = False  # caught before by another closure or time off: told then


def _ensure_manages(actor: User, salon_id: int) -> None:
    if actor.is_superuser:
        return
    if actor.role != Role.MANAGER:
        raise PermissionDenied("Only the salon's managers add closures and time off.", code=Code.MANAGERS_ONLY)
    if actor.salon_id != salon_id:
        raise PermissionDenied("You can only change your own salon.", code=Code.OTHER_SALON)


@transaction.atomic
def closure_create(
    *, actor: User, salon_id: int, start_date: date, end_date: date, reason: str = ""
) -> tuple[SalonClosure, list[AffectedBooking]]:
    """Close the salon from ``start_date`` to ``end_date`` (inclusive, salon days) and
    disrupt the bookings it catches. The salon's managers only."""
    salon = Salon.objects.filter(pk=salon_id).first()
    if salon is None:
        raise InvalidInput("Unknown salon.", code=Code.UNKNOWN_SALON, fields={"salon": ["Unknown salon."]})
    _ensure_manages(actor, salon.pk)
    today = timezone.localtime(timezone.now(), salon.tz).date()
    if end_date < start_date or end_date < today or end_date - start_date > LONGEST_PERIOD:
        raise InvalidInput(
            "Give a closure that ends on or after it starts, not in the past, at most a year long.",
            code=Code.BAD_PERIOD,
            fields={"end_date": ["Not a valid closure."]},
        )
    closure = SalonClosure.objects.create(salon=salon, start_date=start_date, end_date=end_date, reason=reason.strip())
    return closure, closure_disrupt(closure=closure)


@transaction.atomic
def time_off_create(
    *, actor: User, staff_id: int, start: datetime, end: datetime, reason: str = ""
) -> tuple[StaffTimeOff, list[AffectedBooking]]:
    """Record a staff member's time off over [start, end) (times without an offset
    are read in their salon's zone) and disrupt the bookings it catches. Managers of
    the staff member's salon only."""
    staff = (
        User.objects.select_related("salon")
        .filter(pk=staff_id, is_active=True, role__in=[Role.STAFF, Role.MANAGER])
        .first()
    )
    if staff is None:
        message = "Unknown staff member."
        raise InvalidInput(message, code=Code.UNKNOWN_STAFF, fields={"staff": [message]})
    _ensure_manages(actor, staff.salon_id)
    tz = staff.salon.tz
    start = local_to_aware(start, tz) if timezone.is_naive(start) else start
    end = local_to_aware(end, tz, field_name="end") if timezone.is_naive(end) else end
    if end <= start or end <= timezone.now() or end - start > LONGEST_PERIOD:
        raise InvalidInput(
            "Give time off that ends after it starts, not in the past, at most a year long.",
            code=Code.BAD_PERIOD,
            fields={"end": ["Not a valid period."]},
        )
    time_off = StaffTimeOff.objects.create(staff=staff, start=start, end=end, reason=reason.strip())
    return time_off, time_off_disrupt(time_off=time_off)


def _caught(bookings) -> list[Booking]:
    return list(
        bookings.select_for_update(of=("self",))
        .select_related("salon__notification_settings", "service__salon", "customer", "staff")
        .filter(status__in=ACTIVE_STATUSES, start__gt=timezone.now())
        .order_by("start", "id")
    )


@transaction.atomic
def closure_disrupt(*, closure: SalonClosure) -> list[AffectedBooking]:
    """The bookings a (saved) closure catches, disrupted: see the module's docstring."""
    tz = closure.salon.tz
    first, _ = day_window(closure.start_date, tz)
    _, last = day_window(closure.end_date, tz)
    bookings = _caught(Booking.objects.filter(salon_id=closure.salon_id, start__gte=first, start__lt=last))
    return _disrupt(bookings, cause=DisruptionCause.CLOSURE, reason=closure.reason, closure=closure)


@transaction.atomic
def time_off_disrupt(*, time_off: StaffTimeOff) -> list[AffectedBooking]:
    """The bookings a (saved) time off catches ([start, end) overlaps the time off), disrupted."""
    overlapping = Booking.objects.filter(staff_id=time_off.staff_id, start__lt=time_off.end, end__gt=time_off.start)
    bookings = _caught(overlapping)
    return _disrupt(bookings, cause=DisruptionCause.TIME_OFF, reason=time_off.reason, time_off=time_off)


def _disrupt(bookings: list[Booking], *, cause: str, reason: str, **source) -> list[AffectedBooking]:
    now = timezone.now()
    finder = AlternativeFinder(now)
    answer_before = timedelta(minutes=settings.DISRUPTION_CANCEL_BEFORE_MINUTES)
    already = {
        d.booking_id: d for d in BookingDisruption.objects.filter(booking__in=bookings, outcome=DisruptionOutcome.OPEN)
    }
    affected = []
    for booking in bookings:
        if booking.pk in already:
            affected.append(AffectedBooking(booking, already[booking.pk], already_disrupted=True))
            continue
        common = {"booking": booking, "salon_id": booking.salon_id, "cause": cause, "reason": reason[:120]}
        common |= {"move": booking.reschedule_count, **source}
        cancel_at = booking.start - answer_before
        if cancel_at <= now:
            # Too close to its start to wait for an answer: cancelled now, the usual message.
            disruption = BookingDisruption.objects.create(
                **common, cancel_at=now, outcome=DisruptionOutcome.CANCELLED_BY_SALON, resolved_at=now
            )
            booking = booking_cancel_by_salon(booking_id=booking.pk, reason=SALON_CLOSED)
            affected.append(AffectedBooking(booking, disruption))
            continue
        alternatives = finder.nearest(booking)
        disruption = BookingDisruption.objects.create(
            **common, cancel_at=cancel_at, alternatives=[a.as_json() for a in alternatives]
        )
        # No reminders of a time the salon cannot keep; a move plans them anew.
        Booking.objects.filter(pk=booking.pk).update(next_reminder_at=None)
        send_disruption_notice(booking=booking, disruption=disruption, options=alternatives)
        affected.append(AffectedBooking(booking, disruption, alternatives))
    by_staff: dict[int, list[Booking]] = {}
    for item in affected:
        if not item.already_disrupted:
            by_staff.setdefault(item.booking.staff_id, []).append(item.booking)
    for their in by_staff.values():
        if their[0].staff_id != their[0].customer_id:
            send_disruption_summary(staff=their[0].staff, bookings=their, reason=reason, cause=cause)
    if affected:
        logger.info("Disruption (%s): %s booking(s) caught.", cause, len(affected))
    return affected


def _open_disruption(booking: Booking) -> BookingDisruption | None:
    return BookingDisruption.objects.filter(booking=booking, outcome=DisruptionOutcome.OPEN).first()


@transaction.atomic
def disruption_move(*, actor: User, booking_id: int, start: datetime, staff_id: int) -> Booking:
    """The customer chose another time (a button, or the SMS link's page): the booking
    moves there at once, with every booking rule (409 ``slot_taken`` if it was taken
    meanwhile), and its disruption is resolved."""
    booking = booking_move(actor=actor, booking_id=booking_id, start=start, staff_id=staff_id)
    BookingDisruption.objects.filter(booking=booking, outcome=DisruptionOutcome.OPEN).update(
        outcome=DisruptionOutcome.MOVED, resolved_at=timezone.now()
    )
    return booking


@transaction.atomic
def disruption_cancel(*, actor: User, booking_id: int) -> Booking:
    """The customer cancels the disrupted booking (the page's "Cancel")."""
    booking = booking_change_status(actor=actor, booking_id=booking_id, status=BookingStatus.CANCELLED)
    BookingDisruption.objects.filter(booking=booking, outcome=DisruptionOutcome.OPEN).update(
        outcome=DisruptionOutcome.CANCELLED, resolved_at=timezone.now()
    )
    return booking


def disruption_other_times(booking: Booking, *, limit: int = 3) -> tuple[list[Alternative], str]:
    """The free times nearest to a disrupted booking now, and the link to its choice
    page (its latest disruption's)."""
    disruption = BookingDisruption.objects.filter(booking=booking).order_by("-created_at", "-id").first()
    link = disruption_link(disruption.pk) if disruption is not None else ""
    return AlternativeFinder().nearest(booking, limit=limit), link


def disruption_for_page(disruption_id: int) -> BookingDisruption:
    """The disruption a link names, with its booking (404 if there is none)."""
    disruption = (
        BookingDisruption.objects.select_related(
            "booking__salon__notification_settings", "booking__service__salon", "booking__customer", "booking__staff"
        )
        .filter(pk=disruption_id)
        .first()
    )
    if disruption is None:
        raise NotFound("No such link.")
    return disruption


def still_disrupted(booking: Booking, now: datetime) -> bool:
    """Whether the booking's time is still closed or in its staff member's time off."""
    tz = booking.salon.tz
    day = load_staff_days(
        staff_ids=[booking.staff_id],
        salon_id=booking.salon_id,
        local_date=booking.start.astimezone(tz).date(),
        tz=tz,
        reach=MAX_BOOKING_SPAN,
        exclude_booking_pk=booking.pk,
    )[booking.staff_id]
    problem = slot_problem(day, tz=tz, start=booking.start, end=booking.end, busy_until=booking.busy_until, now=now)
    return problem in (BookingErrorCode.SALON_CLOSED, BookingErrorCode.STAFF_TIME_OFF)


def _reminders_again(booking: Booking, now: datetime) -> None:
    """The closure or time off was removed: the booking's reminders, from now on."""
    locked = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon__notification_settings")
        .get(pk=booking.pk)
    )
    booking_reminders_replan(locked, now=now)
    locked.save(update_fields=["reminders_from", "next_reminder_at"])


@dataclass
class DeadlineResult:
    resolved: int = 0
    cancelled: int = 0


def disruption_deadline_scan() -> DeadlineResult:
    """Beat, every minute (``disruptions.deadline``). An open disruption whose booking
    was moved or cancelled meanwhile is resolved. One whose deadline has come is
    cancelled by the salon (reason ``salon_closed``, the usual message to customer
    and staff member) if its time is still closed or in time off, else resolved
    (the closure or time off was removed). Two scans at once share the work
    (locks skipped); a rerun changes nothing."""
    now = timezone.now()
    result = DeadlineResult()
    changed = BookingDisruption.objects.filter(outcome=DisruptionOutcome.OPEN).filter(
        ~Q(booking__status__in=ACTIVE_STATUSES) | ~Q(booking__reschedule_count=F("move"))
    )
    for disruption in changed.select_related("booking"):
        booking = disruption.booking
        by_customer = booking.status == BookingStatus.CANCELLED and booking.cancellation_reason != SALON_CLOSED
        outcome = DisruptionOutcome.CANCELLED if by_customer else DisruptionOutcome.RESOLVED
        if booking.is_active:
            outcome = DisruptionOutcome.MOVED
        result.resolved += BookingDisruption.objects.filter(pk=disruption.pk, outcome=DisruptionOutcome.OPEN).update(
            outcome=outcome, resolved_at=now
        )
    while True:
        with transaction.atomic():
            due = list(
                BookingDisruption.objects.select_for_update(skip_locked=True)
                .filter(outcome=DisruptionOutcome.OPEN, cancel_at__lte=now)
                .order_by("cancel_at", "id")[:100]
            )
            for disruption in due:
                booking = Booking.objects.select_related("salon").get(pk=disruption.booking_id)
                if booking.is_active and booking.reschedule_count == disruption.move and still_disrupted(booking, now):
                    booking_cancel_by_salon(booking_id=booking.pk, reason=SALON_CLOSED)
                    disruption.outcome = DisruptionOutcome.CANCELLED_BY_SALON
                    result.cancelled += 1
                else:
                    disruption.outcome = DisruptionOutcome.RESOLVED
                    result.resolved += 1
                    if booking.is_active and booking.reschedule_count == disruption.move:
                        _reminders_again(booking, now)
                disruption.resolved_at = now
                disruption.save(update_fields=["outcome", "resolved_at"])
        if len(due) < 100:
            break
    if result.cancelled or result.resolved:
        logger.info("Disruptions: %s cancelled by the salon, %s resolved.", result.cancelled, result.resolved)
    return result
