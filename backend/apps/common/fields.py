"""Input fields shared by the API: ids and times are bounded to what the database
can hold, so an absurd value is a 400, never a database error (a 500)."""

from datetime import UTC, datetime

from django import forms
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

from apps.common.error_codes import CommonErrorCode

MAX_ID = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite

# Years a time may have: far enough for any salon, close enough that converting
# between time zones never leaves the range Python and PostgreSQL can represent.
MIN_YEAR, MAX_YEAR = 1900, 2999
OUT_OF_RANGE = f"Give a date-time between the years {MIN_YEAR} and {MAX_YEAR}."


def datetime_in_range(value: datetime) -> datetime | None:
    """The time in UTC if it has an offset (naive stays naive), or None when out of range.

    ISO 8601 allows offsets up to ±23:59, PostgreSQL only up to ±15:59: the
    conversion to UTC makes every valid offset storable and comparable.
    """
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value


class OffsetOptionalDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time; with an offset it is converted to UTC, without one it
    stays naive so the service can read it in the salon's time zone."""

    def enforce_timezone(self, value):
        return value

    def to_internal_value(self, value):
        parsed = datetime_in_range(super().to_internal_value(value))
        if parsed is None:
            raise serializers.ValidationError(OUT_OF_RANGE, code=CommonErrorCode.OUT_OF_RANGE)
        return parsed


class BoundedIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        checked = datetime_in_range(parsed)
        if checked is None:
            raise forms.ValidationError(OUT_OF_RANGE, code=CommonErrorCode.OUT_OF_RANGE)
        return checked


class DateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date-time query parameter, bounded like `OffsetOptionalDateTimeField`."""

    field_class = BoundedIsoDateTimeField


def IdField(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
