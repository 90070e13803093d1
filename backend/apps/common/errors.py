"""The one application error type that services raise.

Each error carries a stable machine-readable ``code`` (clients and tests rely on
it), a human ``message`` and optional per-field details. The API exception
handler turns it into ``{"code", "message", "fields"}`` with ``status_code``.
"""

from typing import Any

from apps.common.error_codes import CommonErrorCode


def is_api_request(request) -> bool:
    """Whether the request is for the JSON API (every answer there is JSON; the
    admin and the other pages are HTML)."""
    return request.path.startswith("/api/")


class AppError(Exception):
    status_code = 400
    default_code = CommonErrorCode.INVALID

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class InvalidInput(AppError):
    status_code = 400
    default_code = CommonErrorCode.INVALID


class PermissionDenied(AppError):
    status_code = 403
    default_code = CommonErrorCode.PERMISSION_DENIED


class NotFound(AppError):
    status_code = 404
    default_code = CommonErrorCode.NOT_FOUND


class Conflict(AppError):
    status_code = 409
    default_code = CommonErrorCode.CONFLICT


class TooManyRequests(AppError):
    status_code = 429
    default_code = CommonErrorCode.THROTTLED
