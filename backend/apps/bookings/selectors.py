import functools
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking
from apps.bookings.schedule import (
    Candidate,
    as_moment,
    free_starts,
    last_bookable_date,
    load_staff_days,
    open_candidates,
    problem_message,
)
from apps.common.errors import InvalidInput
from apps.salons.models import Salon, Service

# What a booking answer shows (serializers.booking_answer): a list page reads these
# columns as plain rows.
ANSWER_COLUMNS = (
    "id", "salon_id", "salon__name", "salon__name_ar", "salon__time_zone",
    "service_id", "service__name", "service__name_ar", "customer_id", "customer__name", "staff_id", "staff__name",
    "start", "end", "status", "note", "customer_confirmed_at", "cancellation_reason", "created_at", "updated_at",
)  # fmt: skip


class BookingRows:
    """What answers show of ``bookings`` (with their salon, service and people), as
    plain rows, and how many there are: what a paginator needs. A page of them is
    read on every list request.

    Which bookings: the queryset's own WHERE (the visibility rule of
    ``booking_list`` and the filters), compiled by the ORM as always. How they are
    read: a statement written here, because building the four joins' SELECT and the
    COUNT through the ORM was a third of a list request. A queryset this cannot
    read exactly (a join, an annotation, another order) goes through the ORM, and
    a test compares both ways for every role and filter."""

    ordered = True

    def __init__(self, bookings: QuerySet[Booking]):
        self.bookings = bookings

    def count(self) -> int:
        where = self._where()
        if where is None:
            return self.bookings.count()
        if where is _NOTHING:
            return 0
        sql, params = where
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {_booking_table()} {sql}", params)  # noqa: S608 - the ORM's WHERE
            return cursor.fetchone()[0]

    def __getitem__(self, page: slice) -> list[dict]:
        where = self._where()
        if where is None:
            return list(self.bookings.values(*ANSWER_COLUMNS)[page])
        if where is _NOTHING:
            return []
        sql, params = where
        booking = _booking_table()
        with connection.cursor() as cursor:
            cursor.execute(
                f"{_page_sql(connection.vendor)} {sql} ORDER BY {booking}.start, {booking}.id LIMIT %s OFFSET %s",
                [*params, page.stop - page.start, page.start],
            )
            rows = cursor.fetchall()
        return [dict(zip(ANSWER_COLUMNS, map(_read, ANSWER_COLUMNS, row), strict=True)) for row in rows]

    def _where(self):
        """("WHERE ...", params), _NOTHING when no row can match, or None for the ORM's way."""
        query = self.bookings.query
        joined = [alias for alias, uses in query.alias_refcount.items() if uses and alias != query.base_table]
        if joined or query.annotations or query.extra or query.order_by:
            return None
        try:
            sql, params = query.get_compiler(self.bookings.db).compile(query.where)
        except EmptyResultSet:
            return _NOTHING
        except FullResultSet:
            return "", []
        # DISTINCT (django-filter's multiple choice) changes nothing without joins.
        return f"WHERE {sql}", list(params)


_NOTHING = object()
_MOMENTS = {"start", "end", "customer_confirmed_at", "created_at", "updated_at"}


def _read(column: str, value):
    # Datetimes are read as text (see _page_sql): "2026-03-01 06:00:00+00" from
    # PostgreSQL (the session is in UTC), the stored UTC "2026-03-01 06:00:00" from SQLite.
    return as_moment(value) if column in _MOMENTS and value is not None else value


def _booking_table() -> str:
    # As the ORM's WHERE names it.
    return connection.ops.quote_name(Booking._meta.db_table)


@functools.cache
def _page_sql(vendor: str) -> str:  # one statement per database kind
    q = connection.ops.quote_name
    booking = _booking_table()
    related = {"salon": Salon, "service": Service, "customer": User, "staff": User}
    columns = []
    for name in ANSWER_COLUMNS:
        relation, _, field = name.partition("__")
        column = f"{relation}.{q(field)}" if field else f"{booking}.{q(Booking._meta.get_field(name).column)}"
        # As text: parsing it with datetime.fromisoformat is a tenth of the cost of
        # the driver's timestamp loader, on twenty rows of five datetimes per page.
        columns.append(f"CAST({column} AS text)" if name in _MOMENTS else column)
    joins = " ".join(
        f"JOIN {q(model._meta.db_table)} {alias} ON {alias}.id = {booking}.{q(alias + '_id')}"
        for alias, model in related.items()
    )
    return f"SELECT {', '.join(columns)} FROM {booking} {joins}"  # noqa: S608 - our models' names


def booking_list(*, user: User) -> QuerySet[Booking]:
    """The bookings ``user`` may see: their own (customer), assigned to them
    (staff), their salon's (manager), or all (superuser)."""
    bookings = Booking.objects.select_related("salon", "service", "customer", "staff").only(*ANSWER_COLUMNS)
    if user.is_superuser:
        return bookings
    if user.role == Role.MANAGER:
        return bookings.filter(salon_id=user.salon_id)
    if user.role == Role.STAFF:
        return bookings.filter(staff=user)
    return bookings.filter(customer=user)


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
    perform it (by name), in one query: a row per performer, or one row with no
    performer. No row: the service is unknown here (400)."""
    q = connection.ops.quote_name
    user, link = q(User._meta.db_table), q(Service.staff_members.through._meta.db_table)
    only_one = "AND u.id = %s" if staff_id is not None else ""
    sql = f"""
        SELECT s.duration_minutes, s.buffer_minutes, salon.time_zone, u.id, u.name
          FROM {q(Service._meta.db_table)} s
          JOIN {q(Salon._meta.db_table)} salon ON salon.id = s.salon_id
          LEFT JOIN {link} m ON m.service_id = s.id
          LEFT JOIN {user} u ON u.id = m.user_id AND u.is_active = %s AND u.role IN (%s, %s)
                            AND u.salon_id = s.salon_id {only_one}
         WHERE s.id = %s AND s.salon_id = %s AND s.is_active = %s
         ORDER BY u.name, u.id
    """  # noqa: S608 - table names from our models, every value a parameter
    params = [True, Role.STAFF, Role.MANAGER, *([staff_id] if staff_id is not None else []), service_id, salon_id, True]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        raise InvalidInput(
            "Unknown service for this salon.",
            code=BookingErrorCode.UNKNOWN_SERVICE,
            fields={"service": ["Unknown service."]},
        )
    duration, buffer, time_zone = rows[0][:3]
    service = {"duration_minutes": duration, "buffer_minutes": buffer, "time_zone": time_zone}
    return service, [Performer(pk, name) for *_, pk, name in rows if pk is not None]
