"""What a booking answer shows: one declaration (``FIELDS``), from which the list's
statement (bookings/sql.py), the answer function and BookingSerializer (the other
answers and the OpenAPI schema) are all made. Adding a field to the answer is a
line here (a test compares the answer with DRF's rendering of the model)."""

from collections.abc import Mapping
from datetime import UTC
from enum import Enum, auto
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Shown(Enum):
    """How a column's value appears in the answer."""

    AS_IS = auto()
    SALON_TIME = auto()  # ISO 8601 with the salon's offset
    UTC_TIME = auto()  # ISO 8601 in UTC, "Z" (as DRF's DateTimeField writes it)


class Field(NamedTuple):
    name: str  # in the answer
    column: str  # the booking's field, or "relation__field"
    shown: Shown = Shown.AS_IS


FIELDS = (
    Field("id", "id"),
    Field("salon", "salon_id"),
    Field("salon_name", "salon__name"),
    Field("salon_name_ar", "salon__name_ar"),
    Field("service", "service_id"),
    Field("service_name", "service__name"),
    Field("service_name_ar", "service__name_ar"),
    Field("customer", "customer_id"),
    Field("customer_name", "customer__name"),
    Field("staff", "staff_id"),
    Field("staff_name", "staff__name"),
    Field("start", "start", Shown.SALON_TIME),
    Field("end", "end", Shown.SALON_TIME),
    Field("status", "status"),
    Field("note", "note"),
    Field("customer_confirmed_at", "customer_confirmed_at", Shown.UTC_TIME),
    Field("cancellation_reason", "cancellation_reason"),
    Field("created_at", "created_at", Shown.UTC_TIME),
    Field("updated_at", "updated_at", Shown.UTC_TIME),
)
TIME_ZONE_COLUMN = "salon__time_zone"  # read for SALON_TIME, not shown
COLUMNS = (*(field.column for field in FIELDS), TIME_ZONE_COLUMN)
_SALON_TIMES = tuple(field.name for field in FIELDS if field.shown is Shown.SALON_TIME)
_UTC_TIMES = tuple(field.name for field in FIELDS if field.shown is Shown.UTC_TIME)


def booking_answer(row: Mapping) -> dict:
    """A booking's answer from its ``COLUMNS`` (a row of the list's statement, or a
    loaded booking's via ``columns_of``). Rows rather than DRF's generic walk of a
    model instance per booking, salon, service and person: every list and answer
    goes through here, and that walk was most of their cost."""
    tz = ZoneInfo(row[TIME_ZONE_COLUMN])
    answer = {name: row[column] for name, column, _ in FIELDS}
    for name in _SALON_TIMES:
        if answer[name] is not None:
            answer[name] = answer[name].astimezone(tz).isoformat()
    for name in _UTC_TIMES:
        if answer[name] is not None:
            moment = answer[name]
            text = (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()
            answer[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
    return answer


def columns_of(booking) -> dict:
    """A loaded booking's ``COLUMNS`` (its salon, service, customer and staff loaded with it)."""
    row = {}
    for column in COLUMNS:
        relation, _, field = column.partition("__")
        row[column] = getattr(getattr(booking, relation), field) if field else getattr(booking, column)
    return row
