"""Login by one-time code, and the provider adapters every message goes through.

The adapters live in ``integrations.messaging`` (one module per
provider); they are exposed here because the OTP sender and the notification
sender share them (SPEC.md section 1).
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts import sql
from apps.accounts.error_codes import AccountErrorCode
from apps.accounts.models import Language, LoginCodeBudget, OneTimeCode, Role, User
from apps.common.channels import Channel, MessageClass
from apps.common.digits import ascii_digits
from apps.common.errors import AppError, InvalidInput, PermissionDenied, TooManyRequests
from apps.common.metrics import LOGIN_CODES
from apps.common.phones import country_code, normalize_mobile
from apps.common.rates import parse_rate
from apps.common.scrubbing import personal_data, personal_data_scope
from integrations.messaging import (
    MessageProvider,
    PermanentProviderError,
    ProviderError,
    RecipientOptedOut,
    Template,
    TransientProviderError,
    get_provider,
    provider_for_channel,
)

logger = logging.getLogger(__name__)

CODE_DIGITS = 6

__all__ = [
    "LoginTokens",
    "MessageProvider",
    "PermanentProviderError",
    "ProviderError",
    "RecipientOptedOut",
    "Template",
    "TransientProviderError",
    "get_provider",
    "otp_request",
    "otp_verify",
    "provider_for_channel",
]

_CODE_TEXT = {
    Language.ENGLISH: "Your Salon login code is {code}. It expires in {minutes} minutes. Do not share it.",
    Language.ARABIC: "رمز الدخول إلى صالون هو {code}. صالح لمدة {minutes} دقائق. لا تشاركه مع أحد.",
}


class OtpDeliveryFailed(AppError):
    status_code = 503
    default_code = AccountErrorCode.OTP_DELIVERY_FAILED


@dataclass(frozen=True)
class LoginTokens:
    user: User
    access: str
    refresh: str
    created: bool


def _code_hash(phone: str, code: str) -> str:
    # Keyed with SECRET_KEY so a leaked table cannot be brute-forced offline
    # without the key (a bare hash of 10^6 codes would fall in a second).
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _invalid_code() -> InvalidInput:
    return InvalidInput(
        "The code is wrong or has expired. Ask for a new code.",
        code=AccountErrorCode.INVALID_CODE,
        fields={"code": ["The code is wrong or has expired."]},
    )


@personal_data_scope
def otp_request(*, phone: str) -> None:
    """Send a fresh login code to ``phone``.

    Guarantees: the phone is a valid mobile number of an allowed country; at most
    one code per phone per cooldown period and at most the global budget per
    window across all phones (429 otherwise, nothing sent), both counted
    atomically in the database; only the code's keyed hash is stored; the outcome
    never depends on whether the phone has an account.
    """
    phone = normalize_mobile(phone)
    if country_code(phone) not in settings.OTP_ALLOWED_COUNTRY_CODES:
        raise InvalidInput(
            "Login codes can only be sent to numbers in supported countries.",
            code=AccountErrorCode.COUNTRY_NOT_ALLOWED,
            fields={"phone": ["This country is not supported."]},
        )

    code = _issue_code(phone, timezone.now())

    language = User.objects.filter(phone=phone).values_list("preferred_language", flat=True).first()
    text = _CODE_TEXT.get(language or Language.ARABIC, _CODE_TEXT[Language.ARABIC]).format(
        code=code, minutes=settings.OTP_CODE_TTL_SECONDS // 60
    )
    personal_data(text, code)  # in no log line or error report (the console provider prints it: development)
    try:
        get_provider(settings.OTP_PROVIDER).send(phone, text, Channel.SMS, message_class=MessageClass.AUTHENTICATION)
    except ProviderError as exc:
        # People cannot log in: an error report. The code and its text are named personal data above.
        logger.error("OTP delivery failed via %s: %s", settings.OTP_PROVIDER, exc, exc_info=exc)
        LOGIN_CODES.labels("delivery_failed").inc()
        raise OtpDeliveryFailed("We could not send a code right now. Try again in a minute.") from None
    LOGIN_CODES.labels("sent").inc()


@transaction.atomic
def _issue_code(phone: str, now) -> str:
    """Store a new code for ``phone`` and return it, or refuse (429) within the
    cooldown or beyond the global budget. Requests for one phone are serialised in
    the database (PostgreSQL: an advisory lock; SQLite: its write lock, taken at
    BEGIN), so parallel requests on any number of processes issue one code."""
    sql.lock_phone_for_login_codes(phone)
    cooldown = settings.OTP_RESEND_COOLDOWN_SECONDS
    if OneTimeCode.objects.filter(phone=phone, created_at__gt=now - timedelta(seconds=cooldown)).exists():
        LOGIN_CODES.labels("cooldown").inc()
        raise TooManyRequests(
            f"A code was sent to this number less than {cooldown} seconds ago. Wait before asking again.",
            code=AccountErrorCode.OTP_COOLDOWN,
        )
    _spend_global_budget(now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    # Only the newest code counts: retire any earlier live ones.
    OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
    OneTimeCode.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.OTP_CODE_TTL_SECONDS),
    )
    return code


def _spend_global_budget(now) -> None:
    """Take one code from the budget of the current window (OTP_REQUEST_RATE_GLOBAL,
    e.g. 1000/hour, across all phones and addresses) or refuse with a 429.

    One conditional UPDATE counts it: concurrent requests on any number of
    processes cannot exceed the budget (SMS pumping spread over many numbers)."""
    limit, period = parse_rate(settings.OTP_REQUEST_RATE_GLOBAL)
    window_start = datetime.fromtimestamp(int(now.timestamp()) // period * period, tz=UTC)
    LoginCodeBudget.objects.bulk_create([LoginCodeBudget(window_start=window_start)], ignore_conflicts=True)
    spent = LoginCodeBudget.objects.filter(window_start=window_start, codes_sent__lt=limit).update(
        codes_sent=F("codes_sent") + 1
    )
    if not spent:
        LOGIN_CODES.labels("global_budget").inc()
        logger.warning("Global login-code budget of %s exhausted; refusing codes until the window ends.", limit)
        raise TooManyRequests(
            "Too many login codes are being requested right now. Try again later.",
            code=AccountErrorCode.OTP_GLOBAL_BUDGET,
        )


def otp_verify(*, phone: str, code: str) -> LoginTokens:
    """Exchange a phone and its code for JWT tokens, creating a customer on first login.

    Guarantees: a code works once, before it expires, and only while fewer than
    ``OTP_MAX_ATTEMPTS`` wrong tries were made. Each try reserves an attempt with
    one atomic UPDATE before the comparison, so concurrent guesses cannot exceed
    the limit; the comparison is constant-time. Digits typed in Arabic-Indic or
    Eastern Arabic-Indic (as phones are) are the same code; anything that is not
    six decimal digits is refused before it can cost an attempt.
    """
    phone = normalize_mobile(phone)
    code = ascii_digits(str(code or "").strip())
    if len(code) != CODE_DIGITS or not (code.isascii() and code.isdigit()):
        raise _invalid_code()

    now = timezone.now()
    otp = (
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
    )
    if otp is None:
        raise _invalid_code()
    live = OneTimeCode.objects.filter(
        pk=otp.pk, used_at__isnull=True, expires_at__gt=now, failed_attempts__lt=settings.OTP_MAX_ATTEMPTS
    )
    if live.update(failed_attempts=F("failed_attempts") + 1) != 1:
        raise _invalid_code()
    if not hmac.compare_digest(otp.code_hash, _code_hash(phone, code)):
        raise _invalid_code()
    # Right code: spend it (once) and give back the attempt it reserved.
    spent = OneTimeCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(
        used_at=now, failed_attempts=F("failed_attempts") - 1
    )
    if spent != 1:
        raise _invalid_code()

    user, created = User.objects.get_or_create(phone=phone, defaults={"role": Role.CUSTOMER})
    if not user.is_active:
        raise PermissionDenied("This account is disabled.", code=AccountErrorCode.ACCOUNT_DISABLED)
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=now)
    return LoginTokens(user=user, access=str(refresh.access_token), refresh=str(refresh), created=created)
