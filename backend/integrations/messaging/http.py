"""The HTTP call every adapter makes, with one timeout and one error mapping.

One keep-alive client per process: a worker sending thousands of messages to
the same provider reuses its connections (and TLS sessions) instead of opening
one per message. A forked process (Celery prefork) gets a client of its own.
"""

import os
import threading

import httpx
from django.conf import settings

from integrations.messaging.base import ProviderErrorCode, TransientProviderError

_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid: int | None = None


def _shared_client() -> httpx.Client:
    global _client, _client_pid
    with _lock:
        if _client is None or _client_pid != os.getpid():
            _client = httpx.Client(limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))
            _client_pid = os.getpid()
        return _client


def post(url: str, **kwargs) -> httpx.Response:
    """POST and return the response; a network failure or timeout is transient."""
    try:
        return _shared_client().post(url, timeout=settings.PROVIDER_HTTP_TIMEOUT_SECONDS, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientProviderError(
            f"Provider timed out: {exc.__class__.__name__}", code=ProviderErrorCode.TIMEOUT
        ) from exc
    except httpx.TransportError as exc:
        raise TransientProviderError(
            f"Provider unreachable: {exc.__class__.__name__}", code=ProviderErrorCode.NETWORK
        ) from exc
