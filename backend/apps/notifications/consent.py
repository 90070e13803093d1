"""The consent ledger: who agreed to promotional messages on which channel.

Append-only (``MarketingConsent``): every decision is a row with the words the
person was shown; the latest row per person and channel is the state, and
nobody has consent until they give it. Giving it is never a condition of
booking. ``consent_record`` is the one writer.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from apps.accounts.models import Language, User
from apps.common.channels import Channel
from apps.notifications.models import ConsentSource, MarketingConsent

# The words shown when someone is asked; a new wording gets a new version (rows keep theirs).
WORDING_VERSION = "2026-11-26"
CHANNEL_WORDS = {
    Language.ENGLISH: {Channel.SMS: "SMS", Channel.WHATSAPP: "WhatsApp"},
    Language.ARABIC: {Channel.SMS: "الرسائل النصية", Channel.WHATSAPP: "واتساب"},
}
WORDING = {
    Language.ENGLISH: (
        "I agree to receive offers and news by {channel} from Salon and the salons I book with. "
        "I can stop at any time: with the link in each offer by SMS, or by replying STOP on WhatsApp. "
        "Messages about my bookings do not depend on this."
    ),
    Language.ARABIC: (
        "أوافق على تلقي العروض والأخبار عبر {channel} من تطبيق صالون والصالونات التي أحجز لديها. "
        "يمكنني الإيقاف في أي وقت: من الرابط في كل عرض يصلني برسالة نصية، أو بالرد بكلمة إيقاف على واتساب. "
        "رسائل حجوزاتي لا تتأثر بذلك."
    ),
}


def consent_wording(channel: str, language: str) -> str:
    language = language if language in WORDING else Language.ARABIC
    return WORDING[language].format(channel=CHANNEL_WORDS[language][channel])


@dataclass(frozen=True)
class ConsentState:
    """A person's consent on one channel: the latest decision, and the words to show them now."""

    channel: str
    granted: bool
    at: datetime | None
    source: str
    wording: str
    version: str


def consent_state(user: User) -> list[ConsentState]:
    """One entry per channel, in the person's language (no row yet: not granted)."""
    latest = {}
    for row in MarketingConsent.objects.filter(user=user).order_by("channel", "-at", "-id"):
        latest.setdefault(row.channel, row)
    return [
        ConsentState(
            channel=channel,
            granted=bool(latest.get(channel) and latest[channel].granted),
            at=latest[channel].at if channel in latest else None,
            source=latest[channel].source if channel in latest else "",
            wording=consent_wording(channel, user.preferred_language),
            version=WORDING_VERSION,
        )
        for channel in Channel.values
    ]


def has_marketing_consent(user_id: int, channel: str) -> bool:
    """Whether the person's latest decision on ``channel`` is a yes."""
    latest = MarketingConsent.objects.filter(user_id=user_id, channel=channel).order_by("-at", "-id").first()
    return bool(latest and latest.granted)


@transaction.atomic
def consent_record(
    *,
    user: User,
    channel: str,
    granted: bool,
    source: str,
    wording: str = "",
    version: str = WORDING_VERSION,
    recorded_by: User | None = None,
    at: datetime | None = None,
) -> MarketingConsent:
    """Record one decision. ``wording``: the exact words shown (default: ours, in the
    person's language); a provider's own words for a choice made there (WhatsApp)."""
    if channel not in Channel.values or source not in ConsentSource.values:
        raise ValueError(f"Unknown channel or source: {channel!r}, {source!r}")
    consent = MarketingConsent(
        user=user,
        channel=channel,
        granted=granted,
        source=source,
        wording=wording or consent_wording(channel, user.preferred_language),
        version=version,
        recorded_by=recorded_by,
    )
    if at is not None:
        consent.at = at
    consent.save()
    return consent


def consent_from_whatsapp(*, user: User, granted: bool, detail: str, at: datetime | None = None) -> MarketingConsent:
    """The person stopped or resumed marketing messages inside WhatsApp (Meta's
    ``user_preferences`` webhook, or error 131050 on a send): their words there are Meta's."""
    return consent_record(
        user=user,
        channel=Channel.WHATSAPP,
        granted=granted,
        source=ConsentSource.WHATSAPP,
        wording=detail or ("Resumed" if granted else "Stopped") + " marketing messages in WhatsApp",
        version="whatsapp",
        at=at,
    )


def consent_withdraw_everywhere(*, user: User, source: str) -> list[MarketingConsent]:
    """Withdraw promotional consent on every channel (the SMS opt-out link)."""
    return [consent_record(user=user, channel=channel, granted=False, source=source) for channel in Channel.values]
