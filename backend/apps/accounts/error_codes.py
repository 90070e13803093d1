"""Error codes of logins and profiles."""

from enum import StrEnum


class AccountErrorCode(StrEnum):
    INVALID_CODE = "invalid_code"
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    OTP_COOLDOWN = "otp_cooldown"
    OTP_GLOBAL_BUDGET = "otp_global_budget"
    OTP_DELIVERY_FAILED = "otp_delivery_failed"
    ACCOUNT_DISABLED = "account_disabled"
    TOKEN_NOT_VALID = "token_not_valid"
    INVALID_CHANNEL = "invalid_channel"
    INVALID_LANGUAGE = "invalid_language"
    PHONE_NOT_A_CUSTOMER = "phone_not_a_customer"
