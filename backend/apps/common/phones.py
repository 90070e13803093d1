"""Phone numbers: parse what people type, store E.164, show national form."""

import phonenumbers
from django.conf import settings

from apps.common.error_codes import CommonErrorCode
from apps.common.errors import InvalidInput

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_mobile(raw: str, *, field: str = "phone") -> str:
    """Return ``raw`` as an E.164 mobile number or raise ``InvalidInput``.

    Accepts the Saudi national form (``0500000002``), spaces and dashes, and
    international forms (``+966...``, ``00966...``, ``966...``).
    """
    text = str(raw or "").strip()
    if not text or len(text) > 32:
        raise _invalid(field)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
        if not text.startswith("+") and not phonenumbers.is_valid_number(number):
            # "966501234567" without the plus reads as a national number; retry it
            # as international before giving up.
            number = phonenumbers.parse("+" + text, None)
    except phonenumbers.NumberParseException:
        raise _invalid(field) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise _invalid(field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_code(e164: str) -> int:
    return phonenumbers.parse(e164, None).country_code


def national_display(e164: str) -> str:
    """``+966500000002`` -> ``0500000002`` (what a Saudi reader expects to see)."""
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit() or ch == "+")


def _invalid(field: str) -> InvalidInput:
    return InvalidInput(
        "Enter a valid mobile phone number, for example 0501234567 or +966501234567.",
        code=CommonErrorCode.INVALID_PHONE,
        fields={field: ["Enter a valid mobile phone number."]},
    )
