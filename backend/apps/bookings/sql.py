"""The bookings app's hand-written SQL, all of it: the statements on the hottest
paths (a booking, availability, the booking list), where building them through the
ORM on every request cost more than running them. Each is tested against the
ORM's answer (tests/test_sql.py) and kept only while it buys at least 10% on its
endpoint (docs/performance.md, "Hand-written SQL"). Table and column names come
from the models; every value is a parameter. Rows are read by one decoder,
``_decode``, which knows the two databases' ways of returning times.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum, IntEnum, auto

from django.db import connection
from django.utils.dateparse import parse_datetime, parse_time

from apps.accounts.models import Role, User
from apps.bookings import answer
from apps.bookings.models import Booking, BookingStatus
from apps.common.pagination import Position
from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff, WorkingHours


class Kind(Enum):
    """How a column's value comes back from the database."""

    VALUE = auto()  # as it is
    MOMENT = auto()  # a timestamp: an aware datetime
    TIME = auto()  # a time of day


def as_moment(value) -> datetime:
    """A timestamp read without the ORM, as an aware datetime. PostgreSQL gives one
    (or text, where the statement casts it: parsing is a tenth of the driver's
    timestamp loader's cost); SQLite gives its stored UTC as text, or as a naive
    datetime where the column's declared type survives (not through a UNION)."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_time(value) -> time:
    # PostgreSQL gives a time; SQLite, which stores text, gives "09:00:00".
    return value if isinstance(value, time) else parse_time(value)


_READERS = {Kind.MOMENT: as_moment, Kind.TIME: _as_time}


def _decode(row: Sequence, kinds: Sequence[Kind]) -> tuple:
    """One row as Python values; NULL stays None."""
    return _decoder(tuple(kinds))(row)


@functools.cache
def _decoder(kinds: tuple[Kind, ...]):
    # Only the columns that need reading are touched: a list page is 20 rows of 20
    # columns, 5 of them timestamps.
    readers = [(index, _READERS[kind]) for index, kind in enumerate(kinds) if kind in _READERS]

    def decode(row: Sequence) -> tuple:
        if len(row) != len(kinds):
            raise ValueError(f"a row of {len(row)} columns, {len(kinds)} expected")
        values = list(row)
        for index, read in readers:
            if values[index] is not None:
                values[index] = read(values[index])
        return tuple(values)

    return decode


def _fetch(sql: str, params: list, kinds: Sequence[Kind]) -> list[tuple]:
    decode = _decoder(tuple(kinds))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [decode(row) for row in cursor.fetchall()]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


# --- the staff day: what decides a staff member's free time on one local day ---

STAFF_DAY_KINDS = (Kind.VALUE, Kind.VALUE, Kind.TIME, Kind.TIME, Kind.MOMENT, Kind.MOMENT)


class StaffDayPart(IntEnum):
    """What a row of ``staff_day_rows`` is (its first column)."""

    HOURS = 0
    BOOKING = 1
    TIME_OFF = 2
    CLOSURE = 3


def staff_day_rows(
    *,
    staff_ids: list[int],
    salon_id: int,
    local_date: date,
    inactive_statuses: Sequence[BookingStatus],
    bookings_from: datetime,
    first: datetime,
    window_end: datetime,
    exclude_booking_pk: int | None,
) -> list[tuple]:
    """(part, staff id, opens, closes, begins, ends) rows: the staff members'
    working hours for the weekday, their bookings that are not inactive and hold
    them after ``first`` (starting after ``bookings_from``, before ``window_end``),
    their time off touching [first, window_end), and a row if the salon is closed
    that day. One statement (a UNION of four) whatever the number of staff."""
    ops = connection.ops
    moment, day = ops.adapt_datetimefield_value, ops.adapt_datefield_value
    people = ", ".join(["%s"] * len(staff_ids)) or "NULL"
    # "Not inactive" rather than "active": PostgreSQL cannot then pick the exclusion
    # constraint's partial GiST index, which narrows by staff member only (with
    # statistics behind a growing table it did, and walked every active booking of
    # the staff: 5 ms instead of 0.1). The (staff, start, id) index takes the day's range.
    inactive = ", ".join(["%s"] * len(inactive_statuses))
    no_time, no_moment = "CAST(NULL AS time)", "CAST(NULL AS timestamp with time zone)"
    sql = f"""
        SELECT {StaffDayPart.HOURS:d}, staff_id, start_time, end_time, {no_moment}, {no_moment}
          FROM {_table(WorkingHours)} WHERE staff_id IN ({people}) AND weekday = %s
        UNION ALL
        SELECT {StaffDayPart.BOOKING:d}, staff_id, {no_time}, {no_time}, start, busy_until
          FROM {_table(Booking)}
         WHERE staff_id IN ({people}) AND status NOT IN ({inactive}) AND start < %s AND start > %s
           AND busy_until > %s AND id <> %s
        UNION ALL
        SELECT {StaffDayPart.TIME_OFF:d}, staff_id, {no_time}, {no_time}, start, {_q("end")}
          FROM {_table(StaffTimeOff)} WHERE staff_id IN ({people}) AND start < %s AND {_q("end")} > %s
        UNION ALL
        SELECT {StaffDayPart.CLOSURE:d}, NULL, {no_time}, {no_time}, {no_moment}, {no_moment}
          FROM {_table(SalonClosure)} WHERE salon_id = %s AND start_date <= %s AND end_date >= %s
    """  # noqa: S608 - table names from our models, every value a parameter
    params = [
        *staff_ids, local_date.weekday(),
        *staff_ids, *inactive_statuses, moment(window_end), moment(bookings_from), moment(first),
        exclude_booking_pk or 0,
        *staff_ids, moment(window_end), moment(first),
        salon_id, day(local_date), day(local_date),
    ]  # fmt: skip
    return _fetch(sql, params, STAFF_DAY_KINDS)


# --- a service with the staff members who perform it ---

PERFORMER_KINDS = (Kind.VALUE,) * 5


def service_with_performers(*, salon_id: int, service_id: int, staff_id: int | None) -> list[tuple]:
    """(duration minutes, buffer minutes, salon time zone, staff id, staff name)
    rows for the salon's active service: one per person linked to it, by name, the
    last two NULL where that person may not perform it here (inactive, a customer,
    another salon's, not ``staff_id``), or one NULL row when nobody is linked. No
    row: the service is unknown there."""
    user, link = _table(User), _q(Service.staff_members.through._meta.db_table)
    only_one = "AND u.id = %s" if staff_id is not None else ""
    sql = f"""
        SELECT s.duration_minutes, s.buffer_minutes, salon.time_zone, u.id, u.name
          FROM {_table(Service)} s
          JOIN {_table(Salon)} salon ON salon.id = s.salon_id
          LEFT JOIN {link} m ON m.service_id = s.id
          LEFT JOIN {user} u ON u.id = m.user_id AND u.is_active = %s AND u.role IN (%s, %s)
                            AND u.salon_id = s.salon_id {only_one}
         WHERE s.id = %s AND s.salon_id = %s AND s.is_active = %s
         ORDER BY u.name, u.id
    """  # noqa: S608 - table names from our models, every value a parameter
    params = [True, Role.STAFF, Role.MANAGER, *([staff_id] if staff_id is not None else []), service_id, salon_id, True]
    return _fetch(sql, params, PERFORMER_KINDS)


# --- a page of the booking list ---

# What a booking answer reads (answer.COLUMNS: one declaration).
ANSWER_COLUMNS = answer.COLUMNS
_MOMENTS = frozenset(field.column for field in answer.FIELDS if field.shown is not answer.Shown.AS_IS)
ANSWER_KINDS = tuple(Kind.MOMENT if name in _MOMENTS else Kind.VALUE for name in ANSWER_COLUMNS)
_RELATED = {"salon": Salon, "service": Service, "customer": User, "staff": User}


@dataclass(frozen=True)
class Visibility:
    """Whose bookings a reader sees: all (every field None), or those of one salon,
    staff member or customer."""

    salon_id: int | None = None
    staff_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True)
class ListFilters:
    statuses: tuple[str, ...] = ()
    staff_id: int | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None


def booking_page(
    *, visibility: Visibility, filters: ListFilters, position: Position | None, backwards: bool, limit: int
) -> list[dict]:
    """Up to ``limit`` bookings in (start, id) order: the first ones after
    ``position`` (from the beginning when None), or, ``backwards``, the last ones
    before it (up to the end when None), still returned in ascending order. Rows
    are ``ANSWER_COLUMNS`` dicts (a ``common.pagination.RowReader``)."""
    moment = connection.ops.adapt_datetimefield_value
    where, params = [], []
    for column, value in (
        ("salon_id", visibility.salon_id),
        ("staff_id", visibility.staff_id),
        ("customer_id", visibility.customer_id),
        ("staff_id", filters.staff_id),
    ):
        if value is not None:
            where.append(f"b.{column} = %s")
            params.append(value)
    if filters.statuses:
        where.append(f"b.status IN ({', '.join(['%s'] * len(filters.statuses))})")
        params.extend(filters.statuses)
    if filters.start_from is not None:
        where.append("b.start >= %s")
        params.append(moment(filters.start_from))
    if filters.start_to is not None:
        where.append("b.start < %s")
        params.append(moment(filters.start_to))
    if position is not None:
        # The plain bound lets the (x, start, id) indexes take the range; the row
        # comparison breaks ties between bookings starting at the same instant.
        sign = "<" if backwards else ">"
        where.append(f"b.start {sign}= %s AND (b.start, b.id) {sign} (%s, %s)")
        params.extend([moment(position.start), moment(position.start), position.id])
    order = "DESC" if backwards else "ASC"
    sql = (
        f"{_answer_select(connection.vendor)} {'WHERE ' + ' AND '.join(where) if where else ''}"
        f" ORDER BY b.start {order}, b.id {order} LIMIT %s"
    )
    rows = _fetch(sql, [*params, limit], ANSWER_KINDS)
    if backwards:
        rows.reverse()
    return [dict(zip(ANSWER_COLUMNS, row, strict=True)) for row in rows]


@functools.cache
def _answer_select(vendor: str) -> str:  # one statement per database kind
    # A relation read for one column (the customer's and the staff member's names) is a
    # scalar subquery, the others joins: planning a five-table join took 0.55 ms per
    # request where statements are not prepared (behind PgBouncer), three tables 0.2 ms.
    used = {}
    for name in ANSWER_COLUMNS:
        relation, _, field = name.partition("__")
        if field:
            used.setdefault(relation, []).append(field)
    joined = {relation for relation, fields in used.items() if len(fields) > 1}
    columns = []
    for name in ANSWER_COLUMNS:
        relation, _, field = name.partition("__")
        if not field:
            column = f"b.{_q(Booking._meta.get_field(name).column)}"
        elif relation in joined:
            column = f"{relation}.{_q(field)}"
        else:
            model = _RELATED[relation]
            column = f"(SELECT {_q(field)} FROM {_table(model)} WHERE id = b.{_q(relation + '_id')})"  # noqa: S608
        # As text: parsing with datetime.fromisoformat is a tenth of the cost of the
        # driver's timestamp loader, on twenty rows of five timestamps per page.
        columns.append(f"CAST({column} AS text)" if name in _MOMENTS else column)
    joins = " ".join(
        f"JOIN {_table(_RELATED[alias])} {alias} ON {alias}.id = b.{_q(alias + '_id')}"
        for alias in _RELATED
        if alias in joined
    )
    return f"SELECT {', '.join(columns)} FROM {_table(Booking)} b {joins}"  # noqa: S608 - our models' names
