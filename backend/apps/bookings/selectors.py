from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking
from apps.bookings.schedule import (
    free_starts,
    grid_starts,
    last_bookable_date,
    load_staff_days,
    problem_message,
)
from apps.common.errors import InvalidInput
from apps.salons.models import Service

# What BookingSerializer reads.
ANSWER_FIELDS = (
    "start", "end", "status", "note", "customer_confirmed_at", "cancellation_reason", "created_at", "updated_at",
    "salon__name", "salon__name_ar", "salon__time_zone", "service__name", "service__name_ar",
    "customer__name", "staff__name",
)  # fmt: skip


def booking_list(*, user: User) -> QuerySet[Booking]:
    """The bookings ``user`` may see: their own (customer), assigned to them
    (staff), their salon's (manager), or all (superuser), with what an answer
    shows of their salon, service and people (and nothing more: a page of them
    is read on every list request)."""
    bookings = Booking.objects.select_related("salon", "service", "customer", "staff").only(*ANSWER_FIELDS)
    if user.is_superuser:
        return bookings
    if user.role == Role.MANAGER:
        return bookings.filter(salon_id=user.salon_id)
    if user.role == Role.STAFF:
        return bookings.filter(staff=user)
    return bookings.filter(customer=user)


@dataclass(frozen=True)
class StaffAvailability:
    staff: User
    starts: list[datetime]


def availability_for_day(*, service: Service, local_date: date, staff_id: int | None = None) -> list[StaffAvailability]:
    """Free start times on ``local_date`` (salon time) for every staff member who
    performs ``service``: working hours minus bookings and their buffers, time off,
    closures and the past, every ``AVAILABILITY_STEP_MINUTES``.

    Each start is exactly one that ``booking_create`` accepts (both use
    ``schedule.slot_problem``). A day after the booking horizon is a 400
    ``start_too_far_ahead``, the booking rule's own code. Two queries (staff, their day),
    whatever the number of staff and bookings.
    """
    now = timezone.now()
    tz = service.salon.tz
    if local_date > last_bookable_date(now, tz):
        message = problem_message(BookingErrorCode.START_TOO_FAR_AHEAD)
        raise InvalidInput(message, code=BookingErrorCode.START_TOO_FAR_AHEAD, fields={"date": [message]})
    staff = User.objects.filter(
        is_active=True, role__in=[Role.STAFF, Role.MANAGER], salon_id=service.salon_id, services_performed=service
    ).order_by("name", "id")
    if staff_id is not None:
        staff = staff.filter(pk=staff_id)
    staff = list(staff)
    if local_date < timezone.localtime(now, tz).date():
        # A past day has no free time (and year-1 dates cannot be converted to UTC).
        return [StaffAvailability(staff=member, starts=[]) for member in staff]
    duration = timedelta(minutes=service.duration_minutes)
    buffer = timedelta(minutes=service.buffer_minutes)
    days = load_staff_days(
        staff_ids=[s.pk for s in staff],
        salon_id=service.salon_id,
        local_date=local_date,
        tz=tz,
        reach=duration + buffer,
    )
    step = timedelta(minutes=settings.AVAILABILITY_STEP_MINUTES)
    result, grids = [], {}
    for member in staff:
        day = days[member.pk]
        # Staff members with the same hours share one grid of candidate starts.
        hours = tuple(sorted(day.hours))
        if hours not in grids:
            grids[hours] = grid_starts(day, local_date, tz, step)
        free = free_starts(day, tz=tz, starts=grids[hours], duration=duration, buffer=buffer, now=now)
        result.append(StaffAvailability(staff=member, starts=free))
    return result
