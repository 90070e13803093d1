"""Prometheus metrics: what the API serves, what the messages do, and the state of
the outbox and the queue, at ``GET /metrics``.

Counters live in each process. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn
workers and Celery workers on one host, as `make run` does), every process
writes there and ``/metrics`` adds them up. Gauges of shared state (oldest
pending message, queue depth) are read from the database and the broker, at
most once per METRICS_CACHE_SECONDS in each process, so any web process reports
the same truth and a burst of scrapes costs one read. The broker is asked with a
short timeout and no retry: a broker that is down or hung makes the gauge -1,
never a scrape that takes seconds.

In production (DJANGO_ENV=production) the path needs METRICS_TOKEN: a start-up
check (apps/common/checks.py) refuses to run without it, and the view stays
closed if the checks were skipped.
"""

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse
from kombu.exceptions import ChannelError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "salon_http_requests", "HTTP requests answered, by route (URL name) and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "salon_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NOTIFICATIONS = Counter(
    "salon_notifications",
    "Notifications that reached an outcome (sent, failed, skipped), by event, channel and provider.",
    ["event", "channel", "provider", "outcome"],
)
DELIVERY_ATTEMPTS = Counter(
    "salon_notification_attempts",
    "Provider calls, by channel, provider and outcome.",
    ["channel", "provider", "outcome"],
)
INBOUND_MESSAGES = Counter(
    "salon_inbound_messages",
    "Messages people sent us, by channel, action (a button, stop, or text) and outcome.",
    ["channel", "action", "outcome"],
)
LOGIN_CODES = Counter(
    "salon_login_code_requests",
    "Login code requests by outcome (sent, cooldown, global_budget, delivery_failed).",
    ["outcome"],
)


def count_notification_on_commit(notification, outcome: str) -> None:
    """Count a message that reached an outcome, once the transaction that wrote it commits."""
    from django.db import transaction

    labels = (notification.event, notification.channel, notification.provider, outcome)
    transaction.on_commit(lambda: NOTIFICATIONS.labels(*labels).inc())


class MiddlewareTimer:
    """Counts and times every request by the name of the view it reached (bounded labels)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.route) if match else "unmatched"
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


# The outbox's state (pending messages, the oldest one's creation time), read by a
# function the notifications app registers: the ground floor imports no app.
OUTBOX_READER: list = []


def register_outbox_reader(reader) -> None:
    OUTBOX_READER[:] = [reader]


class StateCollector:
    """Gauges of shared state, the outbox and the broker queue, read when scraped
    (at most once per METRICS_CACHE_SECONDS)."""

    GAUGES = {
        "salon_notifications_pending": "Notifications waiting to be delivered.",
        "salon_notifications_oldest_pending_age_seconds": "Age of the oldest notification waiting (0: none).",
        "salon_queue_depth": "Messages waiting in the broker's queue (-1: unreadable).",
    }

    def __init__(self):
        self._outbox = _Remembered(outbox_state)
        self._depth = _Remembered(queue_depth)

    def describe(self):
        # Registration asks for names only: no database or broker at import.
        for name, documentation in self.GAUGES.items():
            yield GaugeMetricFamily(name, documentation)

    def collect(self):
        from django.utils import timezone

        pending, oldest, depth = (GaugeMetricFamily(name, doc) for name, doc in self.GAUGES.items())
        outbox = self._outbox.get()
        if outbox is not None:
            count, first = outbox
            pending.add_metric([], count)
            oldest.add_metric([], (timezone.now() - first).total_seconds() if first else 0)
        depth.add_metric([], self._depth.get())
        yield from (pending, oldest, depth)


class _Remembered:
    """The value of ``read()``, read again at most once per METRICS_CACHE_SECONDS in
    this process; concurrent scrapes wait for one read instead of each making one."""

    def __init__(self, read: Callable):
        self._read = read
        self._lock = threading.Lock()
        self._value = None
        self._read_at: float | None = None

    def get(self):
        with self._lock:
            now = time.monotonic()
            if self._read_at is None or not 0 <= now - self._read_at < settings.METRICS_CACHE_SECONDS:
                self._value, self._read_at = self._read(), now
            return self._value


def outbox_state():
    """(notifications pending, when the oldest was created) from the reader the
    notifications app registered, or None when the database does not answer."""
    if not OUTBOX_READER:
        return 0, None
    try:
        return OUTBOX_READER[0]()
    except Exception as exc:  # the database may be down: say so in the log, keep the rest
        logger.warning("Metrics: outbox unreadable: %s", type(exc).__name__)
        return None


def queue_depth() -> int:
    """Messages waiting in the tasks' queue, or -1 when the broker does not answer
    within METRICS_BROKER_TIMEOUT_SECONDS."""
    from apps.common.dependencies import broker_connection

    try:
        with broker_connection(timeout=settings.METRICS_BROKER_TIMEOUT_SECONDS) as connection:
            channel = connection.default_channel
            return channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=True).message_count
    except ChannelError:
        return 0  # Redis drops an empty list: no queue is an empty queue
    except Exception as exc:  # any transport, any failure: the gauge says unknown
        logger.warning("Metrics: queue depth unreadable: %s", exc)
        return -1


_STATE = StateCollector()
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    REGISTRY.register(_STATE)


def metrics_view(request):
    """``GET /metrics`` in the Prometheus text format; with METRICS_TOKEN set, only
    for ``Authorization: Bearer <token>``. In production the token is required: without
    one configured nobody reads the metrics (the start-up check says why)."""
    token = settings.METRICS_TOKEN
    if token or settings.IS_PRODUCTION:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(_STATE)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
