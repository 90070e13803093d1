"""The rules for promotional messages (Saudi CST anti-spam rules and the PDPL;
docs/compliance.md names each rule, where it is enforced and which test proves it).

A promotional message (``MessageClass.PROMOTIONAL``, e.g. the thank-you) goes out
only to someone who agreed to promotional messages on its channel, only inside
the day's promotional window in the salon's time zone (``PROMOTIONAL_HOURS``, a
salon may narrow it), on SMS only from the registered ``-AD`` sender, never
through Twilio, and ending with a link that withdraws the consent. A message due
outside the window waits for the next opening and is dropped (``expired``) if
that is more than 24 hours after it was due. The same rules are read when the
row is written and again just before it is sent.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.accounts.models import Language
from apps.common.channels import Channel
from apps.notifications.consent import has_marketing_consent
from apps.notifications.models import SalonNotificationSettings, SkipReason
from integrations.messaging import provider_for_channel

# How long a held promotional message may wait for the window before it makes no sense.
EXPIRES_AFTER = timedelta(hours=24)
OPT_OUT_LABEL = {Language.ENGLISH: " Opt out: {link}", Language.ARABIC: " للإيقاف: {link}"}
TOKEN_SALT = b"salon.marketing-opt-out"
MAC_LENGTH = 10  # characters of base64url: 60 bits, in a link short enough for one SMS


def promotional_hours() -> tuple[time, time]:
    """``PROMOTIONAL_HOURS`` ("09:00-20:00", salon local time) as two times."""
    text = settings.PROMOTIONAL_HOURS
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ImproperlyConfigured(f"PROMOTIONAL_HOURS must read like 09:00-20:00, not {text!r}.") from None
    if not start < end:
        raise ImproperlyConfigured(f"PROMOTIONAL_HOURS must end after it starts: {text!r}.")
    return start, end


def salon_window(salon_settings: SalonNotificationSettings) -> tuple[time, time]:
    """The salon's promotional window: its own, kept within PROMOTIONAL_HOURS."""
    start, end = promotional_hours()
    mine_start = max(start, salon_settings.promotional_start or start)
    mine_end = min(end, salon_settings.promotional_end or end)
    return (mine_start, mine_end) if mine_start < mine_end else (start, end)


def window_opening(now: datetime, *, tz: ZoneInfo, start: time, end: time) -> datetime:
    """``now`` when it is inside the window (salon local time), else the window's next opening."""
    local = now.astimezone(tz)
    if start <= local.time() < end:
        return now
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz)


def promotional_sms_provider() -> str:
    """The provider that sends promotional SMS: NOTIFICATION_PROMOTIONAL_SMS_PROVIDER, else
    the SMS provider; never Twilio (its Saudi traffic is for service messages), "" if none."""
    provider = settings.NOTIFICATION_PROMOTIONAL_SMS_PROVIDER or provider_for_channel(Channel.SMS)
    return "" if provider == "twilio" or not settings.PROMOTIONAL_SMS_ENABLED else provider


@dataclass(frozen=True)
class Gate:
    """What the rules say about one promotional message now: a reason to skip it,
    or the moment it may go (now, or the window's next opening)."""

    skip_reason: str = ""
    send_at: datetime | None = None


def promotional_gate(*, recipient, channel: str, salon, due: datetime, now: datetime) -> Gate:
    """Apply the rules to a promotional message for ``recipient`` on ``channel``, due at ``due``."""
    if not has_marketing_consent(recipient.pk, channel):
        return Gate(skip_reason=SkipReason.NO_CONSENT)
    if channel == Channel.SMS and not promotional_sms_provider():
        return Gate(skip_reason=SkipReason.NO_PROMOTIONAL_ROUTE)
    start, end = salon_window(SalonNotificationSettings.for_salon(salon))
    opening = window_opening(now, tz=salon.tz, start=start, end=end)
    if opening - due > EXPIRES_AFTER:
        return Gate(skip_reason=SkipReason.EXPIRED)
    return Gate(send_at=opening)


# --- the opt-out link in every promotional SMS ---------------------------------------------------
def _mac(user_part: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode() + TOKEN_SALT, user_part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_LENGTH]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def optout_token(user_id: int) -> str:
    """A short token naming the person, signed with SECRET_KEY (no login needed to use it)."""
    user_part = _base36(user_id)
    return user_part + _mac(user_part)


def read_optout_token(token: str) -> int | None:
    """The person a token names, or None if it is forged, altered or not ours."""
    user_part, mac = token[:-MAC_LENGTH], token[-MAC_LENGTH:]
    if not user_part or len(user_part) > 12 or not hmac.compare_digest(mac.encode(), _mac(user_part).encode()):
        return None
    try:
        return int(user_part, 36)
    except ValueError:
        return None


def optout_link(user_id: int) -> str:
    base = settings.PUBLIC_BASE_URL or f"http://127.0.0.1:{settings.RUN_PORT}"
    return f"{base.rstrip('/')}/u/{optout_token(user_id)}"


def with_optout_link(text: str, *, user_id: int, language: str) -> str:
    """The SMS text ending with the link that withdraws marketing consent."""
    label = OPT_OUT_LABEL.get(language, OPT_OUT_LABEL[Language.ARABIC])
    return text + label.format(link=optout_link(user_id))
