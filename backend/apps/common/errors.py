"""The one application error type that services raise.

Each error carries a stable machine-readable ``code`` (clients and tests rely on
it), a human ``message`` and optional per-field details. The API exception
handler turns it into ``{"code", "message", "fields"}`` with ``status_code``.
"""

from typing import Any


class AppError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class InvalidInput(AppError):
    status_code = 400
    default_code = "invalid"


class PermissionDenied(AppError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(AppError):
    status_code = 404
    default_code = "not_found"


class Conflict(AppError):
    status_code = 409
    default_code = "conflict"


class TooManyRequests(AppError):
    status_code = 429
    default_code = "throttled"
