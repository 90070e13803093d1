"""The one interface every SMS/WhatsApp provider adapter implements.

``send(phone, text, channel)`` returns the provider's message id, or raises a
``ProviderError``: ``TransientProviderError`` when trying again later may work
(timeouts, 5xx, rate limits), ``PermanentProviderError`` when it will not
(invalid number, rejected sender, bad credentials).
"""

from abc import ABC, abstractmethod

SMS = "sms"
WHATSAPP = "whatsapp"


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


class MessageProvider(ABC):
    name: str = ""
    channels: frozenset[str] = frozenset({SMS})

    @abstractmethod
    def send(self, phone: str, text: str, channel: str) -> str:
        """Send ``text`` to the E.164 ``phone`` on ``channel``; return the provider's message id."""

    def check_channel(self, channel: str) -> None:
        if channel not in self.channels:
            raise PermanentProviderError(f"{self.name} cannot send on channel {channel!r}.", code="unsupported_channel")
