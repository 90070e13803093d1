"""The one interface every SMS/WhatsApp provider adapter implements.

``send(phone, text, channel, template=None)`` returns the provider's message id,
or raises a ``ProviderError``: ``TransientProviderError`` when trying again
later may work (timeouts, 5xx, rate limits), ``PermanentProviderError`` when it
will not (invalid number, rejected sender, bad credentials), ``RecipientOptedOut``
when the recipient has asked this channel to stop.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum

from apps.common.channels import Channel


class ProviderErrorCode(StrEnum):
    """Our own codes for refusals that happen before or around the provider's answer
    (the provider's own codes, such as Twilio's 21211, are kept as they come)."""

    TIMEOUT = "timeout"
    NETWORK = "network"
    NOT_CONFIGURED = "not_configured"
    UNKNOWN_PROVIDER = "unknown_provider"
    UNSUPPORTED_CHANNEL = "unsupported_channel"


@dataclass(frozen=True)
class Template:
    """A pre-approved WhatsApp template: its name, language, ordered body variables,
    and the payloads of its quick-reply buttons (in button order)."""

    name: str
    language: str
    variables: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


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
    def send(self, phone: str, text: str, channel: str, template: Template | None = None) -> str:
        """Send to the E.164 ``phone`` on ``channel``; return the provider's message id."""

    def check_channel(self, channel: str) -> None:
        if channel not in self.channels:
            raise PermanentProviderError(
                f"{self.name} cannot send on channel {channel!r}.", code=ProviderErrorCode.UNSUPPORTED_CHANNEL
            )


def digits(phone: str) -> str:
    """E.164 without the plus, as Meta, Unifonic, Taqnyat and Msegat want it."""
    return phone.lstrip("+")


def json_body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def is_transient_status(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


def error_from_answer(status_code: int, *, code: str, message: str, transient_codes=frozenset()) -> ProviderError:
    """The error for a refused request: transient for HTTP 5xx, 429 and the
    provider's own rate-limit codes; permanent for everything else."""
    if is_transient_status(status_code) or code in transient_codes:
        return TransientProviderError(message, code=code)
    return PermanentProviderError(message, code=code)
