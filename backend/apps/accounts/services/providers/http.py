"""The HTTP call every adapter makes, with one timeout and one error mapping."""

import httpx
from django.conf import settings

from apps.accounts.services.providers.base import TransientProviderError


def post(url: str, **kwargs) -> httpx.Response:
    """POST and return the response; a network failure or timeout is transient."""
    try:
        return httpx.post(url, timeout=settings.PROVIDER_HTTP_TIMEOUT_SECONDS, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientProviderError(f"Provider timed out: {exc.__class__.__name__}", code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientProviderError(f"Provider unreachable: {exc.__class__.__name__}", code="network") from exc
