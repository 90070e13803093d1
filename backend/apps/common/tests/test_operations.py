"""Health, readiness, metrics, the global login-code budget, and failing closed when
the cache is down: through the API, in-process (the live faults are in test_faults.py)."""

import logging
import re
import time

import pytest

from apps.accounts.models import LoginCodeBudget, OneTimeCode
from apps.common.tests.live import BACKEND_DIR, free_port

pytestmark = pytest.mark.django_db

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


def _metric(client, name: str, **labels) -> float:
    text = client.get("/metrics").content.decode()
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if match and wanted <= set((match.group(1) or "").split(",")):
            total += float(match.group(2))
    return total


def test_liveness_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/api/health/")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readiness_checks_database_migrations_cache_and_broker(client):
    response = client.get("/api/health/ready/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "broker": "ok"},
    }


def test_readiness_names_the_failed_component_and_keeps_the_details_in_the_log(client, settings, caplog):
    """Anonymous callers learn which component failed, never an address or an exception text."""
    settings.CACHES = DEAD_REDIS
    started = time.monotonic()

    response = client.get("/api/health/ready/")

    assert time.monotonic() - started < 3
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "cache": "failed", "broker": "ok"},
    }
    assert "127.0.0.1" not in response.content.decode() and "Error" not in response.content.decode()
    assert "cache failed" in caplog.text and "127.0.0.1:1" in caplog.text  # for the operator


def test_metrics_read_the_database_at_most_once_per_cache_window(
    client, settings, now, haircut, stylist, customer, django_assert_max_num_queries
):
    from apps.common.tests.factories import BookingFactory, NotificationFactory

    settings.METRICS_CACHE_SECONDS = 5
    NotificationFactory(booking=BookingFactory(service=haircut, staff=stylist, customer=customer))
    client.get("/metrics")  # whatever an earlier test left cached is read again after the window
    now.shift(6)
    assert _metric(client, "salon_notifications_pending") == 1
    NotificationFactory(booking=BookingFactory(service=haircut, customer=customer))  # another staff member

    with django_assert_max_num_queries(0):
        cached = _metric(client, "salon_notifications_pending")
    now.shift(6)
    fresh = _metric(client, "salon_notifications_pending")

    assert (cached, fresh) == (1, 2)


def test_login_fails_closed_while_its_counters_cannot_be_read(api, settings, now, customer, haircut, stylist, caplog):
    settings.CACHES = DEAD_REDIS
    caplog.set_level(logging.INFO, logger="salon.messages")

    started = time.monotonic()
    asked = api.post("/api/auth/otp/request/", {"phone": "0551234567"})
    checked = api.post("/api/auth/otp/verify/", {"phone": "0551234567", "code": "123456"})
    booked = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-01T10:00:00+03:00"}
    )

    for response in (asked, checked):
        assert response.status_code == 503 and response["Retry-After"] == "5"
        assert response.json()["code"] == "service_unavailable"
        assert response.json()["fields"] == {"dependency": "cache"}
    assert time.monotonic() - started < 6
    assert not OneTimeCode.objects.exists()
    assert "login code" not in caplog.text and "رمز الدخول" not in caplog.text
    assert booked.status_code == 201  # what does not need the cache keeps working


def test_metrics_count_requests_and_a_sent_message(api, client, now, customer, haircut, stylist):
    sent = {"event": "booking_created", "channel": "sms", "provider": "console", "outcome": "sent"}
    before = _metric(client, "salon_notifications_total", **sent)

    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-01T10:00:00+03:00"}
    )

    assert response.status_code == 201
    assert _metric(client, "salon_notifications_total", **sent) == before + 2
    assert _metric(client, "salon_http_requests_total", method="POST", route="booking-list", status="201") >= 1
    assert _metric(client, "salon_notifications_pending") == 0
    assert "salon_queue_depth" in client.get("/metrics").content.decode()


def test_metrics_can_require_a_token(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    refused = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secreT")
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")

    assert refused.status_code == 401 and wrong.status_code == 401
    assert allowed.status_code == 200 and b"salon_http_requests_total" in allowed.content


def test_metrics_in_production_are_closed_without_a_token(client, settings):
    """The start-up check refuses production without METRICS_TOKEN; if it was
    skipped, the path stays closed rather than open."""
    settings.DJANGO_ENV, settings.IS_PRODUCTION, settings.METRICS_TOKEN = "production", True, ""

    anonymous = client.get("/metrics")
    guessing = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert anonymous.status_code == 401 and guessing.status_code == 401
    assert b"salon_" not in anonymous.content + guessing.content


def test_the_global_budget_sends_exactly_its_number_of_codes(api, client, settings, now, caplog):
    """200 requests for 200 phones from 200 addresses, a budget of 50 an hour."""
    settings.OTP_REQUEST_RATE_GLOBAL = "50/hour"
    caplog.set_level(logging.INFO, logger="salon.messages")
    refused_before = _metric(client, "salon_login_code_requests_total", outcome="global_budget")

    statuses = []
    for index in range(200):
        response = api.client.post(
            "/api/auth/otp/request/",
            {"phone": f"05{60000000 + index}"},
            format="json",
            REMOTE_ADDR=f"10.0.{index // 250}.{index % 250 + 1}",
        )
        statuses.append((response.status_code, response.json().get("code")))

    assert statuses.count((202, None)) == 50
    assert statuses.count((429, "otp_global_budget")) == 150
    assert OneTimeCode.objects.count() == 50
    assert len([r for r in caplog.records if r.name == "salon.messages"]) == 50
    assert LoginCodeBudget.objects.get().codes_sent == 50
    assert _metric(client, "salon_login_code_requests_total", outcome="global_budget") == refused_before + 150

    now.shift(3600)  # the next hour has a budget of its own
    assert api.client.post("/api/auth/otp/request/", {"phone": "0569999999"}, format="json").status_code == 202


def test_sentry_reports_an_unhandled_error_when_a_dsn_is_set():
    """A process started with SENTRY_DSN sends its unhandled exception to that address."""
    import gzip
    import json
    import os
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            elif self.headers.get("Content-Encoding") == "br":
                import brotli

                body = brotli.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://public@127.0.0.1:{server.server_address[1]}/1"
    script = "import django; django.setup(); raise ZeroDivisionError('reported')"
    env = {**os.environ, "SENTRY_DSN": dsn, "DJANGO_SETTINGS_MODULE": "salon_api.settings", "DJANGO_ENV": "staging"}
    try:
        subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60, cwd=BACKEND_DIR)
    finally:
        server.shutdown()

    events = [line for body in received for line in body.splitlines() if b'"exception"' in line]
    assert events, received
    event = json.loads(events[0])
    assert event["environment"] == "staging"
    assert event["exception"]["values"][-1]["type"] == "ZeroDivisionError"
