"""Booking services: every rule about creating and changing a booking lives here.

Each service runs in one transaction that also writes the notification rows the
change causes, so a booking change and its messages commit or roll back together.
"""

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Language, Role, User
from apps.accounts.services.users import customer_for_phone
from apps.bookings import schedule
from apps.bookings.error_codes import BookingErrorCode as Code
from apps.bookings.models import ACTIVE_STATUSES, ALLOWED_TRANSITIONS, Booking, BookingStatus
from apps.bookings.schedule import load_staff_days, local_to_aware, slot_problem
from apps.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from apps.notifications.models import NotificationEvent
from apps.notifications.reminders import booking_reminders_replan
from apps.notifications.services import notify_booking_lifecycle, notify_on_status_change, send_booking_notification
from apps.salons.models import Service
from apps.waitlist.offers import waitlist_offer_freed_slot

# The longest reason kept (the column's length).
CANCELLATION_REASON_MAX_LENGTH = Booking._meta.get_field("cancellation_reason").max_length

# The PostgreSQL exclusion constraint (migration bookings 0002).
NO_OVERLAP_CONSTRAINT = "booking_staff_no_overlap"

# Actions a person can take on an existing booking.
CONFIRM = "confirm"
CANCEL = "cancel"
COMPLETE = "complete"
RESCHEDULE = "reschedule"
EDIT_NOTE = "edit_note"

_ACTION_FOR_STATUS = {
    BookingStatus.CONFIRMED: CONFIRM,
    BookingStatus.CANCELLED: CANCEL,
    BookingStatus.COMPLETED: COMPLETE,
    BookingStatus.NO_SHOW: COMPLETE,
}

# What each role may do to a booking it can see (SPEC.md section 4). Managers
# (and superusers) may do everything to their salon's bookings.
_STAFF_ACTIONS = {CONFIRM, CANCEL, COMPLETE, RESCHEDULE, EDIT_NOTE}
_CUSTOMER_ACTIONS = {CANCEL, RESCHEDULE, EDIT_NOTE}


def _manages(actor: User, salon_id: int) -> bool:
    return actor.is_superuser or (actor.role == Role.MANAGER and actor.salon_id == salon_id)


def booking_is_visible_to(booking: Booking, actor: User) -> bool:
    return (
        _manages(actor, booking.salon_id)
        or (actor.role == Role.STAFF and booking.staff_id == actor.pk)
        or (actor.role == Role.CUSTOMER and booking.customer_id == actor.pk)
    )


def _ensure_may(actor: User, booking: Booking, action: str, *, now: datetime) -> None:
    """Raise unless ``actor`` may take ``action`` on ``booking`` now.

    A booking the actor cannot see is a 404, never a 403.
    """
    if not booking_is_visible_to(booking, actor):
        raise NotFound("Booking not found.")
    if not _manages(actor, booking.salon_id):
        allowed = _STAFF_ACTIONS if actor.role == Role.STAFF else _CUSTOMER_ACTIONS
        if action not in allowed:
            raise PermissionDenied(
                f"You may not {action.replace('_', ' ')} this booking.", code=Code.ACTION_NOT_ALLOWED
            )
        if actor.role == Role.CUSTOMER and action in (CANCEL, RESCHEDULE) and now >= booking.start:
            raise InvalidInput(
                "This booking has already started; ask the salon to change it.", code=Code.BOOKING_ALREADY_STARTED
            )
    # Whoever records it: a visit (or a missed one) is a fact only once the time has
    # come; a no-show recorded early would text the customer "we missed you" before it.
    if action == COMPLETE and now < booking.start:
        raise InvalidInput(
            "This booking has not started yet: it can be marked completed or no-show from its start.",
            code=Code.BOOKING_NOT_STARTED,
        )


def _ensure_movable(booking: Booking) -> None:
    if not booking.is_active:
        raise InvalidInput(
            f"A {booking.status} booking cannot be moved.",
            code=Code.INVALID_TRANSITION,
            fields={"start": ["Not active."]},
        )


def _aware_in_salon_tz(start: datetime, tz) -> datetime:
    # A start without an offset is read in the salon's time zone.
    return local_to_aware(start, tz) if timezone.is_naive(start) else start


def _ensure_slot_is_bookable(
    *,
    staff: User,
    service: Service,
    start: datetime,
    end: datetime,
    busy_until: datetime,
    now: datetime,
    exclude_pk: int | None = None,
) -> None:
    """Apply the one bookability rule (``schedule.slot_problem``) to this slot.

    Call inside a transaction after locking the staff member's row, so two
    requests for the same staff member check and write one after the other.
    """
    tz = service.salon.tz
    day = load_staff_days(
        staff_ids=[staff.pk],
        salon_id=service.salon_id,
        local_date=start.astimezone(tz).date(),
        tz=tz,
        reach=busy_until - start,
        exclude_booking_pk=exclude_pk,
    )[staff.pk]
    problem = slot_problem(day, tz=tz, start=start, end=end, busy_until=busy_until, now=now)
    if problem == Code.SLOT_TAKEN:
        raise Conflict(schedule.problem_message(problem), code=problem)
    if problem:
        message = schedule.problem_message(problem)
        raise InvalidInput(message, code=problem, fields={"start": [message]})


def _overlap_is_a_conflict(service):
    """The PostgreSQL exclusion constraint's refusal is the same 409 as the check's.

    Applied outside the service's transaction: the refused INSERT or UPDATE rolls
    the whole change back (no savepoint is needed on the way in)."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except IntegrityError as exc:
            if NO_OVERLAP_CONSTRAINT in str(exc):
                raise Conflict(schedule.problem_message(Code.SLOT_TAKEN), code=Code.SLOT_TAKEN) from None
            raise

    return wrapper


def _lock_staff(staff_id: int) -> None:
    # One row lock per staff member serialises their bookings on PostgreSQL.
    list(User.objects.select_for_update().filter(pk=staff_id).values_list("pk", flat=True))


Performer = Service.staff_members.through


@_overlap_is_a_conflict
@transaction.atomic
def booking_create(
    *,
    actor: User,
    service_id: int,
    staff_id: int,
    start: datetime,
    note: str = "",
    customer_id: int | None = None,
) -> Booking:
    """Create a pending booking and record ``booking_created`` for customer and staff.

    Customers book for themselves; managers for any customer at their salon;
    staff may not create bookings. The slot must be in the future, within the
    staff member's hours, for a service they perform, and free (409 otherwise).
    A staff member's bookings are checked and written one at a time: their row is
    locked (PostgreSQL; SQLite serialises writers at BEGIN IMMEDIATE), and the
    exclusion constraint refuses an overlap whatever happened before.
    """
    now = timezone.now()
    if actor.role == Role.STAFF and not actor.is_superuser:
        raise PermissionDenied("Staff members cannot create bookings.", code=Code.ACTION_NOT_ALLOWED)
    # One query finds the service (with its salon and message settings) and the
    # staff member who performs it, and locks the staff member's row. When it
    # finds nothing, the slower path below says exactly what is wrong. At most one
    # row exists (a staff member performs a service once): sliced, not .first(),
    # whose ORDER BY the ORM compiled on every request for nothing (docs/performance.md).
    link = next(
        iter(
            Performer.objects.select_related("service__salon__notification_settings", "user")
            .select_for_update(of=("user",))
            .filter(
                service_id=service_id,
                service__is_active=True,
                user_id=staff_id,
                user__is_active=True,
                user__role__in=[Role.STAFF, Role.MANAGER],
                user__salon_id=F("service__salon_id"),
            )[:1]
        ),
        None,
    )
    service = link.service if link else _active_service(service_id)
    customer = _customer_for(actor, service, customer_id)
    staff = link.user if link else _performer_refusal(service, staff_id)

    start = _aware_in_salon_tz(start, service.salon.tz)
    end = start + timedelta(minutes=service.duration_minutes)
    busy_until = end + timedelta(minutes=service.buffer_minutes)
    _ensure_slot_is_bookable(staff=staff, service=service, start=start, end=end, busy_until=busy_until, now=now)

    booking = Booking(
        salon=service.salon,
        service=service,
        customer=customer,
        staff=staff,
        start=start,
        end=end,
        busy_until=busy_until,
        note=note.strip(),
        status=BookingStatus.PENDING,
    )
    booking_reminders_replan(booking, now=now)
    booking.save(force_insert=True)
    notify_booking_lifecycle(booking, NotificationEvent.BOOKING_CREATED, fresh=True)
    return booking


@transaction.atomic
def booking_create_for_phone(
    *,
    actor: User,
    service_id: int,
    staff_id: int,
    start: datetime,
    phone: str,
    name: str = "",
    language: str = Language.ARABIC,
    note: str = "",
) -> Booking:
    """The front desk books a caller or a walk-in: the customer is found by their
    phone in any form, or made on the spot from the phone and a name
    (``customer_for_phone``), then ``booking_create`` applies every rule and writes
    the usual messages. One transaction: a refused booking leaves no new customer."""
    if not (actor.is_superuser or actor.role == Role.MANAGER):
        raise PermissionDenied("Only a salon's manager books at the front desk.", code=Code.ACTION_NOT_ALLOWED)
    customer = customer_for_phone(phone=phone, name=name, language=language)
    return booking_create(
        actor=actor, service_id=service_id, staff_id=staff_id, start=start, note=note, customer_id=customer.pk
    )


def _active_service(service_id: int) -> Service:
    service = Service.objects.select_related("salon").filter(pk=service_id, is_active=True).first()
    if service is None:
        raise InvalidInput("Unknown service.", code=Code.UNKNOWN_SERVICE, fields={"service": ["Unknown service."]})
    return service


def _customer_for(actor: User, service: Service, customer_id: int | None) -> User:
    """Whom the booking is for: a customer themselves, or a manager's chosen customer."""
    if actor.role == Role.CUSTOMER and not actor.is_superuser:
        if customer_id is not None and customer_id != actor.pk:
            raise PermissionDenied("Customers can only book for themselves.", code=Code.ACTION_NOT_ALLOWED)
        return actor
    if not _manages(actor, service.salon_id):
        raise PermissionDenied("You can only book at your own salon.", code=Code.OTHER_SALON)
    customer = User.objects.filter(pk=customer_id, role=Role.CUSTOMER, is_active=True).first()
    if customer_id is None or customer is None:
        raise InvalidInput(
            "Choose the customer this booking is for.",
            code=Code.UNKNOWN_CUSTOMER,
            fields={"customer": ["A customer is required."]},
        )
    return customer


def _performer_refusal(service: Service, staff_id: int) -> User:
    """Why the staff member cannot take this service (always raises)."""
    staff = User.objects.filter(
        pk=staff_id, is_active=True, role__in=[Role.STAFF, Role.MANAGER], salon_id=service.salon_id
    ).first()
    if staff is None:
        raise InvalidInput(
            "Unknown staff member for this salon.", code=Code.UNKNOWN_STAFF, fields={"staff": ["Unknown staff member."]}
        )
    raise InvalidInput(
        "This staff member does not perform this service.",
        code=Code.STAFF_DOES_NOT_PERFORM_SERVICE,
        fields={"staff": ["Does not perform the chosen service."]},
    )


def _locked_booking(booking_id: int, actor: User) -> Booking:
    """Lock the booking for this transaction; one the actor may not see is a 404."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon__notification_settings", "service__salon", "customer", "staff")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None or not booking_is_visible_to(booking, actor):
        raise NotFound("Booking not found.")
    return booking


@transaction.atomic
def booking_change_status(
    *, actor: User, booking_id: int, status: str, reason: str = "", tell_customer: bool = True
) -> Booking:
    """Move a booking along its status machine and notify on confirm/cancel.

    A request for the current status changes and sends nothing. Any change not
    in ``ALLOWED_TRANSITIONS`` is a 400 naming the allowed next statuses. A
    cancellation may say why (``reason``, kept on the booking).
    ``tell_customer=False``: only the staff member hears of it (an erasure's cancellations).
    """
    booking = _locked_booking(booking_id, actor)
    return _change_status(actor, booking, status, now=timezone.now(), reason=reason, tell_customer=tell_customer)


@transaction.atomic
def booking_attendance_confirm(*, actor: User, booking_id: int) -> Booking:
    """The customer says they will come ("I'll be there"): recorded once, for their
    own pending or confirmed booking, before it starts. It is not the salon's
    confirmation (the status does not change) and sends nothing."""
    now = timezone.now()
    booking = _locked_booking(booking_id, actor)
    if booking.customer_id != actor.pk:
        raise PermissionDenied("Only the customer can confirm they will come.", code=Code.ACTION_NOT_ALLOWED)
    if not booking.is_active:
        raise InvalidInput(f"A {booking.status} booking cannot be confirmed.", code=Code.INVALID_TRANSITION)
    if now >= booking.start:
        raise InvalidInput("This booking has already started.", code=Code.BOOKING_ALREADY_STARTED)
    if booking.customer_confirmed_at is None:
        booking.customer_confirmed_at = now
        booking.save(update_fields=["customer_confirmed_at", "updated_at"])
    return booking


@dataclass(frozen=True)
class BookingChanges:
    status: str | None = None
    start: datetime | None = None
    note: str | None = None
    # Only with status "cancelled": a CancellationReason code or words a person wrote.
    reason: str | None = None
    # A move to another staff member of the salon (managers: the front desk).
    staff_id: int | None = None


@_overlap_is_a_conflict
@transaction.atomic
def booking_update(*, actor: User, booking_id: int, changes: BookingChanges) -> Booking:
    """Apply a PATCH: note, then a move (start and/or staff member), then a status
    change, all in one transaction on one locked row."""
    now = timezone.now()
    if changes.reason is not None and changes.status != BookingStatus.CANCELLED:
        raise InvalidInput(
            "A reason goes with a cancellation only.",
            code=Code.REASON_WITHOUT_CANCELLATION,
            fields={"reason": ["Send it with status cancelled."]},
        )
    booking = _locked_booking(booking_id, actor)
    if changes.note is not None and changes.note.strip() != booking.note:
        booking = _update_note(actor, booking, changes.note, now=now)
    if changes.start is not None or changes.staff_id is not None:
        booking = _reschedule(actor, booking, changes.start or booking.start, now=now, staff_id=changes.staff_id)
    if changes.status is not None:
        booking = _change_status(actor, booking, changes.status, now=now, reason=changes.reason or "")
    return booking


# --- steps on a booking already locked by the caller --------------------------------
def _change_status(
    actor: User, booking: Booking, status: str, *, now: datetime, reason: str = "", tell_customer: bool = True
) -> Booking:
    previous = booking.status
    if status == previous:
        return booking
    allowed = ALLOWED_TRANSITIONS[previous]
    if status not in allowed:
        allowed_text = ", ".join(allowed) or "none"
        raise InvalidInput(
            f"A {previous} booking cannot become {status}. Allowed next statuses: {allowed_text}.",
            code=Code.INVALID_TRANSITION,
            fields={"status": [f"Allowed next statuses: {allowed_text}."]},
        )
    _ensure_may(actor, booking, _ACTION_FOR_STATUS[status], now=now)
    booking.status = status
    if status not in ACTIVE_STATUSES:
        booking.next_reminder_at = None  # nothing to remind of a cancelled or finished booking
    if status == BookingStatus.CANCELLED:
        booking.cancellation_reason = reason.strip()[:CANCELLATION_REASON_MAX_LENGTH]
    booking.save(update_fields=["status", "next_reminder_at", "cancellation_reason", "updated_at"])
    notify_on_status_change(booking, previous, tell_customer=tell_customer)
    if status == BookingStatus.CANCELLED:
        # The freed time goes to the waiting list, in this transaction.
        waitlist_offer_freed_slot(booking=booking, staff_id=booking.staff_id, start=booking.start, now=now)
    return booking


def _reschedule(
    actor: User, booking: Booking, start: datetime, *, now: datetime, staff_id: int | None = None
) -> Booking:
    """Move a booking to ``start`` and, for a manager, to another staff member who
    performs its service: the one bookability rule for the new slot, both staff
    members' rows locked (in id order), reminders planned again, and
    ``booking_rescheduled`` to whoever the move concerns: the customer when the
    time changed, the staff member it is with now and the one it left."""
    _ensure_may(actor, booking, RESCHEDULE, now=now)
    _ensure_movable(booking)
    start = _aware_in_salon_tz(start, booking.salon.tz)
    previous_staff = booking.staff
    staff = previous_staff if staff_id in (None, booking.staff_id) else _new_performer(actor, booking, staff_id)
    if start == booking.start and staff == previous_staff:
        return booking
    end = start + timedelta(minutes=booking.service.duration_minutes)
    busy_until = end + timedelta(minutes=booking.service.buffer_minutes)
    for pk in sorted({previous_staff.pk, staff.pk}):
        _lock_staff(pk)
    _ensure_slot_is_bookable(
        staff=staff,
        service=booking.service,
        start=start,
        end=end,
        busy_until=busy_until,
        now=now,
        exclude_pk=booking.pk,
    )
    previous_start = booking.start
    booking.start, booking.end, booking.busy_until = start, end, busy_until
    booking.staff = staff
    booking.reschedule_count += 1
    booking_reminders_replan(booking, now=now)
    booking.save(
        update_fields=[
            "start",
            "end",
            "busy_until",
            "staff",
            "reschedule_count",
            "reminders_from",
            "next_reminder_at",
            "updated_at",
        ],
    )
    told = {"sequence": booking.reschedule_count, "previous_start": previous_start}
    # The time it left goes to the waiting list, in this transaction.
    waitlist_offer_freed_slot(booking=booking, staff_id=previous_staff.pk, start=previous_start, now=now)
    if staff == previous_staff:
        notify_booking_lifecycle(booking, NotificationEvent.BOOKING_RESCHEDULED, **told)
        return booking
    # Another chair: the customer hears only if the time changed (our texts name no
    # staff member); both staff members hear, each about their own day.
    recipients = [booking.customer] if start != previous_start else []
    recipients += [person for person in (staff, previous_staff) if person.pk != booking.customer_id]
    for person in recipients:
        send_booking_notification(booking, person, NotificationEvent.BOOKING_RESCHEDULED, **told)
    return booking


def _new_performer(actor: User, booking: Booking, staff_id: int) -> User:
    """The staff member a manager moves a booking to: active, of the booking's salon,
    performing its service (400 otherwise). Others may not change the staff member."""
    if not _manages(actor, booking.salon_id):
        raise PermissionDenied(
            "Only the salon's manager can give a booking to another staff member.", code=Code.ACTION_NOT_ALLOWED
        )
    staff = User.objects.filter(
        pk=staff_id,
        is_active=True,
        role__in=[Role.STAFF, Role.MANAGER],
        salon_id=booking.salon_id,
        services_performed=booking.service_id,
    ).first()
    if staff is None:
        _performer_refusal(booking.service, staff_id)
    return staff


def _update_note(actor: User, booking: Booking, note: str, *, now: datetime) -> Booking:
    _ensure_may(actor, booking, EDIT_NOTE, now=now)
    booking.note = note.strip()
    booking.save(update_fields=["note", "updated_at"])
    return booking


# --- disruptions: moves to another staff member, and the salon's own cancellation -----------
@_overlap_is_a_conflict
@transaction.atomic
def booking_move(*, actor: User, booking_id: int, start: datetime, staff_id: int) -> Booking:
    """Move a booking to ``start`` with ``staff_id``, another staff member of its salon
    who performs its service, or the same one (then it is a reschedule): the choice a
    disrupted booking's customer makes among its alternatives. The rules of a
    reschedule apply (who may, before the start, an active booking, the slot
    bookable for that staff member); the customer and the staff member now serving
    it hear ``booking_rescheduled``; the time it leaves goes to the waiting list."""
    now = timezone.now()
    booking = _locked_booking(booking_id, actor)
    if staff_id == booking.staff_id:
        return _reschedule(actor, booking, start, now=now)
    _ensure_may(actor, booking, RESCHEDULE, now=now)
    _ensure_movable(booking)
    link = (
        Performer.objects.select_related("user")
        .filter(
            service_id=booking.service_id,
            user_id=staff_id,
            user__is_active=True,
            user__role__in=[Role.STAFF, Role.MANAGER],
            user__salon_id=booking.salon_id,
        )
        .first()
    )
    if link is None:
        raise InvalidInput(
            "This staff member does not perform this service.",
            code=Code.STAFF_DOES_NOT_PERFORM_SERVICE,
            fields={"staff": ["Does not perform the booking's service."]},
        )
    start = _aware_in_salon_tz(start, booking.salon.tz)
    end = start + timedelta(minutes=booking.service.duration_minutes)
    busy_until = end + timedelta(minutes=booking.service.buffer_minutes)
    for locked in sorted({booking.staff_id, staff_id}):  # one order: two moves cannot deadlock
        _lock_staff(locked)
    _ensure_slot_is_bookable(
        staff=link.user, service=booking.service, start=start, end=end, busy_until=busy_until, now=now
    )
    previous_start, previous_staff_id = booking.start, booking.staff_id
    booking.staff = link.user
    booking.start, booking.end, booking.busy_until = start, end, busy_until
    booking.reschedule_count += 1
    booking_reminders_replan(booking, now=now)
    booking.save(
        update_fields=[
            "staff",
            "start",
            "end",
            "busy_until",
            "reschedule_count",
            "reminders_from",
            "next_reminder_at",
            "updated_at",
        ]
    )
    notify_booking_lifecycle(
        booking, NotificationEvent.BOOKING_RESCHEDULED, sequence=booking.reschedule_count, previous_start=previous_start
    )
    waitlist_offer_freed_slot(booking=booking, staff_id=previous_staff_id, start=previous_start, now=now)
    return booking


@transaction.atomic
def booking_cancel_by_salon(*, booking_id: int, reason: str) -> Booking:
    """The salon cancels a booking with no person acting (a disrupted booking nobody
    answered for): ``reason`` is kept, customer and staff member hear the usual
    ``booking_cancelled``. A booking no longer pending or confirmed is left alone."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("salon__notification_settings", "service__salon", "customer", "staff")
        .get(pk=booking_id)
    )
    if not booking.is_active:
        return booking
    now = timezone.now()
    previous = booking.status
    booking.status = BookingStatus.CANCELLED
    booking.next_reminder_at = None
    booking.cancellation_reason = reason[:200]
    booking.save(update_fields=["status", "next_reminder_at", "cancellation_reason", "updated_at"])
    notify_on_status_change(booking, previous)
    waitlist_offer_freed_slot(booking=booking, staff_id=booking.staff_id, start=booking.start, now=now)
    return booking
