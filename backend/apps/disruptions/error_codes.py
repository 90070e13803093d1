"""Error codes of closures and time off: one rule, one code."""

from enum import StrEnum


class DisruptionErrorCode(StrEnum):
    MANAGERS_ONLY = "managers_only"
    OTHER_SALON = "other_salon"
    UNKNOWN_SALON = "unknown_salon"
    UNKNOWN_STAFF = "unknown_staff"
    BAD_PERIOD = "bad_period"
