"""The one interface every SMS/WhatsApp provider adapter implements.

``send(phone, text, channel, template=None)`` returns a ``SentMessage`` (the
provider's message id, and the segments and price where the provider reports
them), or raises a ``ProviderError``: ``TransientProviderError`` when trying again
later may work (timeouts, 5xx, rate limits), ``PermanentProviderError`` when it
will not (invalid number, rejected sender, bad credentials), ``RecipientOptedOut``
when the recipient has asked this channel to stop.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.conf import settings

from apps.common.channels import Channel, MessageClass
from integrations.messaging.errors import Learned, OnFailure, error_rule


class ProviderErrorCode(StrEnum):
    """Our own codes for refusals that happen before or around the provider's answer
    (the provider's own codes, such as Twilio's 21211, are kept as they come)."""

    TIMEOUT = "timeout"
    NETWORK = "network"
    NOT_CONFIGURED = "not_configured"
    UNKNOWN_PROVIDER = "unknown_provider"
    UNSUPPORTED_CHANNEL = "unsupported_channel"
    NOT_ALLOWED = "not_allowed"  # a message this provider must not carry (promotional SMS through Twilio)


@dataclass(frozen=True)
class Template:
    """A pre-approved WhatsApp template: its name, language, ordered body variables,
    and the payloads of its quick-reply buttons (in button order)."""

    name: str
    language: str
    variables: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SentMessage:
    """What a provider said when it accepted a message: its id, and (where the
    provider reports them at once) the segments it bills and the price."""

    message_id: str
    segments: int | None = None
    price: Decimal | None = None
    price_unit: str = ""


def reported_segments(value) -> int | None:
    """A provider's segment count ("2", 2) as a number; None when absent or odd."""
    try:
        segments = int(str(value))
    except (TypeError, ValueError):
        return None
    return segments if 0 < segments < 1000 else None


def reported_price(value) -> Decimal | None:
    """A provider's price ("-0.0075", 0.05) as a positive Decimal; None when absent.
    Twilio writes charges as negative numbers; the cost is their size."""
    if value is None or isinstance(value, bool):
        return None
    try:
        price = abs(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return price.quantize(Decimal("0.000001")) if price.is_finite() and price < 10_000 else None


class ProviderError(Exception):
    transient = False

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = str(code or "")

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class TransientProviderError(ProviderError):
    transient = True


class PermanentProviderError(ProviderError):
    transient = False


class RecipientOptedOut(PermanentProviderError):
    """The recipient replied STOP (or equivalent) on this channel."""


class MessageProvider(ABC):
    name: str = ""
    channels: frozenset[str] = frozenset({Channel.SMS})

    @abstractmethod
    def send(
        self,
        phone: str,
        text: str,
        channel: str,
        template: Template | None = None,
        *,
        message_class: str = MessageClass.SERVICE,
    ) -> SentMessage:
        """Send to the E.164 ``phone`` on ``channel``; return what the provider accepted.
        ``message_class`` picks the sender (a promotional SMS goes from the ``-AD`` one)."""

    def account(self) -> str:
        """The provider account this adapter sends from (rate limits are per account)."""
        return ""

    def check_channel(self, channel: str) -> None:
        if channel not in self.channels:
            raise PermanentProviderError(
                f"{self.name} cannot send on channel {channel!r}.", code=ProviderErrorCode.UNSUPPORTED_CHANNEL
            )


def sms_sender(provider_sender: str, message_class: str) -> str:
    """The sender name of an SMS: the promotional ``-AD`` one for promotional messages,
    else the provider's own setting, else SMS_SENDER_ID."""
    if message_class == MessageClass.PROMOTIONAL:
        return settings.SMS_PROMOTIONAL_SENDER_ID
    return provider_sender or settings.SMS_SENDER_ID


def digits(phone: str) -> str:
    """E.164 without the plus, as Meta, Unifonic, Taqnyat and Msegat want it."""
    return phone.lstrip("+")


def json_body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_from_answer(provider: str, status_code: int, *, code: str, message: str) -> ProviderError:
    """The error for a refused request, as the one table of provider errors
    (``integrations.messaging.errors``) reads the provider's code: retried for
    HTTP 5xx, 429 and the codes it marks ``retry``; the recipient's STOP for the
    codes it marks so; final for everything else."""
    rule = error_rule(provider, code, http_status=status_code)
    if rule.on_failure == OnFailure.RETRY:
        return TransientProviderError(message, code=code)
    if rule.learned == Learned.OPTED_OUT:
        return RecipientOptedOut(message, code=code)
    return PermanentProviderError(message, code=code)
