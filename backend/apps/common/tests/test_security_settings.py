"""Production settings, security headers, admin access and input limits."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from apps.common.tests.factories import UserFactory
from apps.common.tests.live import BACKEND_DIR

pytestmark = pytest.mark.django_db


PRINT_SECURITY_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
)


PRODUCTION_VARIABLES = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "METRICS_TOKEN"}


def _settings_in_production(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SECURITY_SETTINGS],
        cwd=BACKEND_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "salon_api.settings", "DJANGO_ENV": "production", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_production(ALLOWED_HOSTS="api.salon.example")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _settings_in_production(SECRET_KEY="x" * 60)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_defaults_are_secure():
    result = _settings_in_production(SECRET_KEY="x" * 60, ALLOWED_HOSTS="api.salon.example")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "31536000", "True"]


def _check_in_production(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_VARIABLES}
    production = {"DJANGO_ENV": "production", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "api.salon.example"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BACKEND_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "salon_api.settings", **production, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_does_not_start_without_a_metrics_token():
    refused = _check_in_production()
    allowed = _check_in_production(METRICS_TOKEN="a-long-random-scrape-token")

    assert refused.returncode != 0
    assert "salon.E001" in refused.stderr and "METRICS_TOKEN" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr


def test_debug_is_off_unless_set():
    assert settings.DEBUG is False


def test_responses_carry_security_headers(api):
    response = api.get("/api/salons/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_admin_is_for_staff_users_only(client):
    customer = UserFactory()
    client.force_login(customer)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_oversized_body_is_refused_with_413(api, customer):
    api.as_user(customer)

    response = api.client.post(
        "/api/bookings/", data='{"note": "' + "x" * 70_000 + '"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_page_size_is_capped(api, now, haircut, stylist, customer):
    from apps.common.tests.factories import BookingFactory

    for _ in range(101):
        BookingFactory(service=haircut, staff=stylist, customer=customer, status="cancelled")

    response = api.as_user(customer).get("/api/bookings/", {"page_size": 100000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100 and response.json()["next"]


def test_strings_longer_than_the_model_allows_are_400(api, customer):
    response = api.as_user(customer).patch("/api/me/", {"name": "n" * 151})

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_unknown_fields_are_ignored_consistently(api, now, customer, haircut, stylist):
    response = api.as_user(customer).post(
        "/api/bookings/",
        {
            "service": haircut.pk,
            "staff": stylist.pk,
            "start": "2026-03-01T10:00:00+03:00",
            "status": "confirmed",
            "salon": 999,
            "is_admin": True,
        },
    )

    assert response.status_code == 201
    assert response.json()["status"] == "pending" and response.json()["salon"] == haircut.salon_id
