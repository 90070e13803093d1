"""Provider adapters, one module per provider, chosen by name in settings."""

from django.conf import settings

from apps.common.channels import Channel
from integrations.messaging.base import (
    MessageProvider,
    PermanentProviderError,
    ProviderError,
    ProviderErrorCode,
    RecipientOptedOut,
    SentMessage,
    Template,
    TransientProviderError,
)
from integrations.messaging.console import ConsoleProvider
from integrations.messaging.taqnyat import TaqnyatProvider
from integrations.messaging.twilio import TwilioProvider
from integrations.messaging.unifonic import UnifonicProvider
from integrations.messaging.whatsapp_cloud import WhatsAppCloudProvider

PROVIDERS: dict[str, type[MessageProvider]] = {
    provider.name: provider
    for provider in (ConsoleProvider, TwilioProvider, UnifonicProvider, TaqnyatProvider, WhatsAppCloudProvider)
}


def get_provider(name: str) -> MessageProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise PermanentProviderError(
            f"Unknown message provider {name!r}.", code=ProviderErrorCode.UNKNOWN_PROVIDER
        ) from None


def provider_for_channel(channel: str) -> str:
    """The provider name that sends ``channel`` for notifications (see settings)."""
    explicit = settings.NOTIFICATION_SMS_PROVIDER if channel == Channel.SMS else settings.NOTIFICATION_WHATSAPP_PROVIDER
    if explicit:
        return explicit
    main = PROVIDERS.get(settings.NOTIFICATION_PROVIDER)
    if main is not None and channel in main.channels:
        return settings.NOTIFICATION_PROVIDER
    return settings.OTP_PROVIDER if channel == Channel.SMS else settings.NOTIFICATION_PROVIDER


__all__ = [
    "PROVIDERS",
    "ConsoleProvider",
    "MessageProvider",
    "PermanentProviderError",
    "ProviderError",
    "ProviderErrorCode",
    "RecipientOptedOut",
    "SentMessage",
    "TaqnyatProvider",
    "Template",
    "TransientProviderError",
    "TwilioProvider",
    "UnifonicProvider",
    "WhatsAppCloudProvider",
    "get_provider",
    "provider_for_channel",
]
