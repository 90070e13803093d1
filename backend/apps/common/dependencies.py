"""What a request needs besides our own code: the database, the cache (Redis in
production) and the broker. When one of them is down, the answer is a clear 503
with Retry-After, in the API's JSON shape, and one log line, never a 500."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from kombu.exceptions import OperationalError as BrokerError

from apps.common.error_codes import CommonErrorCode
from apps.common.errors import is_api_request

logger = logging.getLogger("salon.dependencies")

DATABASE, CACHE, BROKER = "database", "cache", "broker"


def unavailable_dependency(exc: BaseException) -> str | None:
    """Which dependency ``exc`` says is unreachable (None: not a dependency failure)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return CACHE
    if isinstance(exc, BrokerError):
        return BROKER
    return None


def unavailable_body(dependency: str) -> dict:
    return {
        "code": CommonErrorCode.SERVICE_UNAVAILABLE,
        "message": f"The {dependency} is unavailable right now. Try again in a few seconds.",
        "fields": {"dependency": dependency},
    }


def retry_after_header() -> dict[str, str]:
    return {"Retry-After": str(settings.DEPENDENCY_RETRY_AFTER_SECONDS)}


def log_unavailable(request, dependency: str, exc: BaseException) -> None:
    # One line, no traceback: during an outage every request fails the same way.
    logger.warning("%s unavailable for %s %s: %s", dependency, request.method, request.path, exc)


def unavailable_response(request, dependency: str) -> HttpResponse:
    """JSON under /api/, a short HTML page elsewhere (the admin)."""
    if is_api_request(request):
        response = JsonResponse(unavailable_body(dependency), status=503)
    else:
        response = HttpResponse(
            f"<h1>Service unavailable</h1><p>The {dependency} is unavailable right now. "
            "Try again in a few seconds.</p>",
            status=503,
        )
    for header, value in retry_after_header().items():
        response[header] = value
    return response


@contextmanager
def broker_connection(*, timeout: float) -> Iterator:
    """A connection to the broker that gives up after ``timeout`` seconds, without
    retrying (kombu's default retry sleeps 2 s first): for probes that must answer
    quickly whether the broker is up (readiness, the queue-depth gauge)."""
    from salon_api.celery import app

    sockets = {} if settings.EMBEDDED_BROKER else {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    with app.connection_for_write(connect_timeout=timeout, transport_options=sockets) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
        yield connection
