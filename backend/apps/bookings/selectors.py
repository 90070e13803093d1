import functools
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.bookings import sql
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking
from apps.bookings.schedule import (
    Candidate,
    free_starts,
    last_bookable_date,
    load_staff_days,
    open_candidates,
    problem_message,
)
from apps.bookings.sql import ANSWER_COLUMNS, ListFilters, Visibility
from apps.common.errors import InvalidInput
from apps.common.pagination import Position


def booking_list(*, user: User) -> QuerySet[Booking]:
    """The bookings ``user`` may see: their own (customer), assigned to them
    (staff), their salon's (manager), or all (superuser)."""
    bookings = Booking.objects.select_related("salon", "service", "customer", "staff").only(*ANSWER_COLUMNS)
    seen = visibility(user)
    named = {"salon_id": seen.salon_id, "staff_id": seen.staff_id, "customer_id": seen.customer_id}
    return bookings.filter(**{column: value for column, value in named.items() if value is not None})


def visibility(user: User) -> Visibility:
    """The one rule of whose bookings ``user`` sees (``booking_list`` and the list
    page both read it)."""
    if user.is_superuser:
        return Visibility()
    if user.role == Role.MANAGER:
        return Visibility(salon_id=user.salon_id)  # a manager always has one (a check constraint)
    if user.role == Role.STAFF:
        return Visibility(staff_id=user.pk)
    return Visibility(customer_id=user.pk)


def booking_page(*, user: User, filters: ListFilters, position: Position | None, backwards: bool, limit: int):
    """A page of the bookings ``user`` may see, as answer rows (``sql.booking_page``)."""
    seen = visibility(user)
    return sql.booking_page(visibility=seen, filters=filters, position=position, backwards=backwards, limit=limit)


@dataclass(frozen=True)
class Performer:
    pk: int
    name: str


@dataclass(frozen=True)
class StaffAvailability:
    staff: Performer
    starts: list[Candidate]


@dataclass(frozen=True)
class DayAvailability:
    """A service's free start times on one local day, per staff member who performs it."""

    salon_id: int
    service_id: int
    time_zone: str
    duration_minutes: int
    staff: list[StaffAvailability]


def availability_for_day(
    *,
    salon_id: int,
    service_id: int,
    local_date: date,
    staff_id: int | None = None,
    exclude_booking_pk: int | None = None,
) -> DayAvailability:
    """Free start times on ``local_date`` (salon time) for every staff member who
    performs the salon's active service (or only ``staff_id``): working hours minus
    bookings and their buffers, time off, closures and the past, every
    ``AVAILABILITY_STEP_MINUTES``.

    Each start is exactly one that ``booking_create`` accepts (both use
    ``schedule.slot_problem``'s rule). An unknown service is a 400
    ``unknown_service``; a day after the booking horizon a 400
    ``start_too_far_ahead``, the booking rule's own code. Two queries (the service
    with its performers, their day), whatever the number of staff and bookings:
    this is the most called endpoint of a customer app.

    ``exclude_booking_pk``: a booking being moved does not stand in its own way.
    """
    now = timezone.now()
    service, staff = _service_and_performers(salon_id=salon_id, service_id=service_id, staff_id=staff_id)
    tz = ZoneInfo(service["time_zone"])
    if local_date > last_bookable_date(now, tz):
        message = problem_message(BookingErrorCode.START_TOO_FAR_AHEAD)
        raise InvalidInput(message, code=BookingErrorCode.START_TOO_FAR_AHEAD, fields={"date": [message]})
    answer = functools.partial(
        DayAvailability,
        salon_id=salon_id,
        service_id=service_id,
        time_zone=service["time_zone"],
        duration_minutes=service["duration_minutes"],
    )
    if local_date < timezone.localtime(now, tz).date():
        # A past day has no free time (and year-1 dates cannot be converted to UTC).
        return answer(staff=[StaffAvailability(staff=member, starts=[]) for member in staff])
    duration = timedelta(minutes=service["duration_minutes"])
    buffer = timedelta(minutes=service["buffer_minutes"])
    days = load_staff_days(
        staff_ids=[s.pk for s in staff],
        salon_id=salon_id,
        local_date=local_date,
        tz=tz,
        reach=duration + buffer,
        exclude_booking_pk=exclude_booking_pk,
    )
    step = timedelta(minutes=settings.AVAILABILITY_STEP_MINUTES)
    result, candidates_by_hours = [], {}
    for member in staff:
        day = days[member.pk]
        # Staff members with the same hours share one list of candidate starts.
        hours = tuple(sorted(day.hours))
        if hours not in candidates_by_hours:
            candidates_by_hours[hours] = open_candidates(
                hours, local_date=local_date, tz=tz, step=step, duration=duration, buffer=buffer, now=now
            )
        result.append(StaffAvailability(staff=member, starts=free_starts(day, candidates_by_hours[hours])))
    return answer(staff=result)


def _service_and_performers(*, salon_id: int, service_id: int, staff_id: int | None) -> tuple[dict, list[Performer]]:
    """The salon's active service and the active staff members of that salon who
    perform it (by name), in one query. No row: the service is unknown here (400)."""
    rows = sql.service_with_performers(salon_id=salon_id, service_id=service_id, staff_id=staff_id)
    if not rows:
        raise InvalidInput(
            "Unknown service for this salon.",
            code=BookingErrorCode.UNKNOWN_SERVICE,
            fields={"service": ["Unknown service."]},
        )
    duration, buffer, time_zone = rows[0][:3]
    service = {"duration_minutes": duration, "buffer_minutes": buffer, "time_zone": time_zone}
    return service, [Performer(pk, name) for *_, pk, name in rows if pk is not None]
