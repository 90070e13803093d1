"""Error codes of personal-data requests."""

from enum import StrEnum


class PrivacyErrorCode(StrEnum):
    ERASURE_NOT_FOR_STAFF = "erasure_not_for_staff"
    TOO_MANY_OPEN_REQUESTS = "too_many_open_requests"
    REQUEST_ALREADY_COMPLETED = "request_already_completed"
