"""Provider adapters, one module per provider, chosen by name in settings."""

from apps.accounts.services.providers.base import (
    SMS,
    WHATSAPP,
    MessageProvider,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from apps.accounts.services.providers.console import ConsoleProvider
from apps.accounts.services.providers.twilio import TwilioProvider

PROVIDERS: dict[str, type[MessageProvider]] = {
    ConsoleProvider.name: ConsoleProvider,
    TwilioProvider.name: TwilioProvider,
}


def get_provider(name: str) -> MessageProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise PermanentProviderError(f"Unknown message provider {name!r}.", code="unknown_provider") from None


__all__ = [
    "PROVIDERS",
    "SMS",
    "WHATSAPP",
    "ConsoleProvider",
    "MessageProvider",
    "PermanentProviderError",
    "ProviderError",
    "TransientProviderError",
    "TwilioProvider",
    "get_provider",
]
