"""When may a staff member be booked? One answer, used by the booking service and
by availability, so that what is offered is exactly what a booking accepts.

A slot [start, end) with the staff member busy until ``busy_until`` (end plus the
service's buffer) is bookable when: it starts in the future, on a local day no more
than ``BOOKING_HORIZON_DAYS`` after today; the salon is not
closed that local day; it lies inside one of the staff member's working-hours
intervals for that weekday (local wall time); it does not touch their time off;
and [start, busy_until) does not overlap another active booking's
[start, busy_until).
"""

import bisect
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

from apps.bookings import sql
from apps.bookings.error_codes import BookingErrorCode as Code
from apps.bookings.models import ACTIVE_STATUSES, BookingStatus
from apps.common.errors import InvalidInput
from apps.salons.models import MAX_BOOKING_SPAN

INACTIVE_STATUSES = tuple(status for status in BookingStatus if status not in ACTIVE_STATUSES)

MESSAGES = {
    Code.START_IN_PAST: "The start time is in the past.",
    Code.START_TOO_FAR_AHEAD: "Bookings open at most {days} days ahead.",
    Code.SALON_CLOSED: "The salon is closed that day.",
    Code.OUTSIDE_WORKING_HOURS: "The staff member does not work at that time.",
    Code.STAFF_TIME_OFF: "The staff member is off at that time.",
    Code.SLOT_TAKEN: "The staff member already has a booking at that time. Choose another time.",
}


@dataclass
class StaffDay:
    """Everything that decides one staff member's free time on one local day."""

    hours: list[tuple[time, time]] = field(default_factory=list)
    bookings: list[tuple[datetime, datetime]] = field(default_factory=list)  # [start, busy_until)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)
    closed: bool = False


def slot_problem(
    day: StaffDay, *, tz: ZoneInfo, start: datetime, end: datetime, busy_until: datetime, now: datetime
) -> Code | None:
    """Return why the slot cannot be booked (its error code), or None when it can."""
    if start <= now:
        return Code.START_IN_PAST
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() > last_bookable_date(now, tz):
        return Code.START_TOO_FAR_AHEAD
    if day.closed:
        return Code.SALON_CLOSED
    if not _within_hours(day, local_start, local_end):
        return Code.OUTSIDE_WORKING_HOURS
    if any(off_start < end and start < off_end for off_start, off_end in day.time_off):
        return Code.STAFF_TIME_OFF
    if any(other_start < busy_until and start < other_busy for other_start, other_busy in day.bookings):
        return Code.SLOT_TAKEN
    return None


def _within_hours(day: StaffDay, local_start: datetime, local_end: datetime) -> bool:
    """Whether the slot (salon local time) lies inside one of the day's working intervals."""
    return local_start.date() == local_end.date() and any(
        opens <= local_start.time() and local_end.time() <= closes for opens, closes in day.hours
    )


class Candidate(NamedTuple):
    """A start the grid offers on one local day, with the instants the rule compares
    (UTC) and the text an answer shows."""

    local: datetime
    start: datetime
    end: datetime
    busy_until: datetime
    text: str


def open_candidates(
    hours: tuple[tuple[time, time], ...],
    *,
    local_date: date,
    tz: ZoneInfo,
    step: timedelta,
    duration: timedelta,
    buffer: timedelta,
    now: datetime,
) -> list[Candidate]:
    """The grid's starts for these working hours that pass every part of
    ``slot_problem`` that does not depend on one staff member's bookings or time
    off: in the future, within the horizon, inside the hours. Computed once for all
    the staff members who share these hours; ``free_starts`` does the rest."""
    if local_date > last_bookable_date(now, tz):
        return []
    candidates = _calendar_candidates(hours, local_date, tz, step, duration, buffer)
    return list(candidates[bisect.bisect_right(candidates, now, key=attrgetter("start")) :])


@functools.lru_cache(maxsize=128)
def _calendar_candidates(
    hours: tuple[tuple[time, time], ...],
    local_date: date,
    tz: ZoneInfo,
    step: timedelta,
    duration: timedelta,
    buffer: timedelta,
) -> tuple[Candidate, ...]:
    """The grid's starts inside these hours, ascending. Pure calendar arithmetic
    (which wall times exist that day in that zone, and where a slot ends), the same
    on every request: remembered, while bookings, time off, closures and the clock
    are read fresh each time. 128 days of grids are at most a few MiB."""
    day = StaffDay(hours=list(hours))
    candidates = []
    for local in grid_starts(day, local_date, tz, step):
        if not _within_hours(day, local, local + duration):
            continue
        # Wall-clock arithmetic as slot_problem's callers do it (start + duration in
        # the salon's zone); compared in UTC (one zone, no offset lookups).
        start = local.astimezone(UTC)
        end = (local + duration).astimezone(UTC)
        busy_until = (local + duration + buffer).astimezone(UTC)
        candidates.append(Candidate(local, start, end, busy_until, local.isoformat()))
    # Ascending in UTC too: a wall time that happens twice is offered once (grid_starts).
    return tuple(sorted(candidates, key=attrgetter("start")))


def free_starts(day: StaffDay, candidates: list[Candidate]) -> list[Candidate]:
    """The ``candidates`` (ascending, from ``open_candidates`` for this staff
    member's hours) for which ``slot_problem`` finds no problem, computed in one
    sweep: each is checked against the bookings and time off still ahead of it, so
    the cost grows with candidates + bookings, not candidates x bookings.

    It applies exactly the rule of ``slot_problem`` (availability's hypothesis
    test compares it with a minute-by-minute oracle and with ``booking_create``)."""
    if day.closed:
        return []
    if not day.bookings and not day.time_off:
        return candidates
    bookings = sorted(day.bookings)
    time_off = sorted(day.time_off)
    free = []
    first_booking = first_off = 0
    for candidate in candidates:
        start = candidate.start
        # Intervals that ended before this start end before every later start too:
        # skip them for good. Those left are checked until one begins after the slot.
        while first_off < len(time_off) and time_off[first_off][1] <= start:
            first_off += 1
        if _overlaps(time_off, first_off, start, candidate.end):
            continue
        while first_booking < len(bookings) and bookings[first_booking][1] <= start:
            first_booking += 1
        if _overlaps(bookings, first_booking, start, candidate.busy_until):
            continue
        free.append(candidate)
    return free


def _overlaps(intervals: list[tuple[datetime, datetime]], first: int, start: datetime, until: datetime) -> bool:
    """Whether any of ``intervals[first:]`` (sorted by start) overlaps [start, until)."""
    for begins, ends in intervals[first:]:
        if begins >= until:
            return False
        if start < ends:
            return True
    return False


def last_bookable_date(now: datetime, tz: ZoneInfo) -> date:
    """The last local day on which a booking may start (and availability is shown)."""
    return now.astimezone(tz).date() + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def problem_message(problem: Code) -> str:
    return MESSAGES[problem].format(days=settings.BOOKING_HORIZON_DAYS)


def day_window(local_date: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of the local day's midnight and the next one (23, 24 or 25 hours apart)."""
    first = datetime.combine(local_date, time(0), tzinfo=tz).astimezone(UTC)
    last = datetime.combine(local_date + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return first, last


def load_staff_days(
    *,
    staff_ids: list[int],
    salon_id: int,
    local_date: date,
    tz: ZoneInfo,
    reach: timedelta = timedelta(days=1),
    exclude_booking_pk: int | None = None,
) -> dict[int, StaffDay]:
    """Load the day of every given staff member: their working hours for that
    weekday, active bookings and time off touching it, and whether the salon is
    closed. One query (a UNION of four), whatever the number of staff members: it
    is on the path of every booking and every availability request. Bookings are
    looked for from ``MAX_BOOKING_SPAN`` before the day on (no booking holds its
    staff member longer), so the index range stays one day wide however many
    bookings a staff member has before or after it.

    ``reach``: how far past the day's last minute a slot starting that day can
    hold the staff member (the service's duration and buffer)."""
    first, last = day_window(local_date, tz)
    days = {staff_id: StaffDay() for staff_id in staff_ids}
    rows = sql.staff_day_rows(
        staff_ids=staff_ids,
        salon_id=salon_id,
        local_date=local_date,
        inactive_statuses=INACTIVE_STATUSES,
        bookings_from=first - MAX_BOOKING_SPAN,
        first=first,
        window_end=last + reach,
        exclude_booking_pk=exclude_booking_pk,
    )
    closed = False
    for part, staff_id, opens, closes, begins, ends in rows:
        if part == sql.StaffDayPart.HOURS:
            days[staff_id].hours.append((opens, closes))
        elif part == sql.StaffDayPart.BOOKING:
            days[staff_id].bookings.append((begins, ends))
        elif part == sql.StaffDayPart.TIME_OFF:
            days[staff_id].time_off.append((begins, ends))
        else:
            closed = True
    for staff_day in days.values():
        staff_day.closed = closed
    return days


def local_to_aware(naive: datetime, tz: ZoneInfo, *, field_name: str = "start") -> datetime:
    """Read a wall-clock time in ``tz``; a time that does not exist (the hour skipped
    when clocks go forward) or exists twice (when they go back) is a 400."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip it). Choose another time.",
            code=Code.NONEXISTENT_LOCAL_TIME,
            fields={field_name: ["This local time does not exist."]},
        )
    if first.utcoffset() != second.utcoffset():
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {tz.key} (the clocks go back). Send the time with its offset.",
            code=Code.AMBIGUOUS_LOCAL_TIME,
            fields={field_name: ["Ambiguous local time: include the UTC offset."]},
        )
    return first


def grid_starts(day: StaffDay, local_date: date, tz: ZoneInfo, step: timedelta) -> list[datetime]:
    """Candidate starts: every ``step`` from the opening of each working interval,
    in local wall time, skipping times the clocks jump over. A time that happens
    twice (clocks going back) is offered once, at its first occurrence."""
    starts = []
    for opens, closes in sorted(day.hours):
        wall = datetime.combine(local_date, opens)
        limit = datetime.combine(local_date, closes)
        while wall < limit:
            aware = wall.replace(tzinfo=tz, fold=0)
            if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
                starts.append(aware)
            wall += step
    return starts
