"""Error codes of the provider callbacks."""

from enum import StrEnum


class NotificationErrorCode(StrEnum):
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_VERIFY_TOKEN = "invalid_verify_token"
