"""Error codes shared by every app: one rule, one code (clients and tests import these)."""

from enum import StrEnum


class CommonErrorCode(StrEnum):
    INVALID = "invalid"
    BAD_REQUEST = "bad_request"
    PARSE_ERROR = "parse_error"
    INVALID_PHONE = "invalid_phone"
    OUT_OF_RANGE = "out_of_range"
    INVALID_CURSOR = "invalid_cursor"
    REQUEST_TOO_LARGE = "request_too_large"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    TOKEN_EXPIRED = "token_expired"
    PERMISSION_DENIED = "permission_denied"
    CSRF_FAILED = "csrf_failed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
