"""Every /api/ answer is the API's JSON, in every mode: deep JSON, missing slashes,
unknown paths, bugs, outages, expired tokens."""

import hashlib
import hmac
import json
import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.common.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db

NESTED = ("[" * 5000 + "]" * 5000).encode()


def _post_raw(client, path, body, **headers):
    return client.generic("POST", path, body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    "path",
    ["/api/auth/otp/request/", "/api/auth/otp/verify/", "/api/auth/token/refresh/", "/api/bookings/"],
)
def test_deeply_nested_json_is_a_400(api, customer, path):
    client = api.as_user(customer).client

    response = _post_raw(client, path, NESTED)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error" and "nested too deeply" in response.json()["message"]


def test_deeply_nested_json_is_a_400_for_patch_and_logout(api, now, customer):
    client = api.as_user(customer).client
    booking = BookingFactory(customer=customer)

    for method, path in (
        ("PATCH", "/api/me/"),
        ("PATCH", f"/api/bookings/{booking.pk}/"),
        ("POST", "/api/auth/logout/"),
    ):
        response = client.generic(method, path, NESTED, content_type="application/json")
        assert (response.status_code, response.json()["code"]) == (400, "parse_error"), path


def test_a_signed_but_deeply_nested_whatsapp_body_is_a_400(client, settings, db):
    settings.WHATSAPP_APP_SECRET = "app-secret"
    signature = "sha256=" + hmac.new(b"app-secret", NESTED, hashlib.sha256).hexdigest()

    response = _post_raw(client, "/api/webhooks/whatsapp/", NESTED, HTTP_X_HUB_SIGNATURE_256=signature)
    unsigned = _post_raw(client, "/api/webhooks/whatsapp/", NESTED)

    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    assert (unsigned.status_code, unsigned.json()["code"]) == (403, "invalid_signature")


LONE_SURROGATE = "\\ud800"  # as a JSON escape: valid JSON, not valid text (no UTF-8 for it)


@pytest.mark.parametrize(
    ("method", "where", "field"),
    [
        ("PATCH", "me", "preferred_language"),
        ("PATCH", "me", "preferred_channel"),
        ("PATCH", "booking", "status"),
    ],
)
def test_a_lone_surrogate_in_a_choice_field_is_a_400(api, now, customer, method, where, field):
    client = api.as_user(customer).client
    path = "/api/me/" if where == "me" else f"/api/bookings/{BookingFactory(customer=customer).pk}/"
    body = f'{{"{field}": "{LONE_SURROGATE}"}}'.encode()

    response = client.generic(method, path, body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "parse_error" and "surrogate" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/auth/otp/request/", '{"phone": "050%s"}'),
        ("POST", "/api/bookings/", '{"service": 1, "staff": 1, "start": "2026-03-01T10:00:00+03:00", "note": "%s"}'),
        ("PATCH", "/api/me/", '{"name": "Chris %s"}'),
        ("PATCH", "/api/me/", '{"%s": "a key"}'),
        ("PATCH", "/api/me/", '{"name": ["nested", {"deeper": "%s"}]}'),
        ("POST", "/api/auth/logout/", '{"refresh": "%s"}'),
        ("POST", "/api/auth/token/refresh/", '{"refresh": "x%s"}'),
        ("PATCH", "/api/me/", '{"name": "\\udfff low half alone"}'),
        ("PATCH", "/api/me/", '{"name": "\\ude00\\ud83d halves swapped"}'),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_400(api, now, customer, method, path, body):
    client = api.as_user(customer).client
    raw = body.replace("%s", LONE_SURROGATE).encode()

    response = client.generic(method, path, raw, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "parse_error"), response.content[:300]
    customer.refresh_from_db()
    assert customer.name == "Chris"


JSON_WITH_SURROGATES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(categories=["Cs", "Ll", "Nd"]), max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(st.characters(categories=["Cs", "Ll"]), max_size=4), children, max_size=3),
    max_leaves=8,
)


def _holds_a_lone_surrogate(document) -> bool:
    # A high half followed by a low half is one character once decoded: not lone.
    decoded = json.loads(json.dumps(document))
    return re.search("[\ud800-\udfff]", json.dumps(decoded, ensure_ascii=False)) is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/me/"),
        ("POST", "/api/bookings/"),
        ("POST", "/api/auth/otp/verify/"),
        ("POST", "/api/auth/token/refresh/"),
    ],
)
def test_any_json_holding_a_lone_surrogate_is_a_400_never_a_500(api, now, customer, method, path):
    client = api.as_user(customer).client
    client.raise_request_exception = False

    @hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(document=JSON_WITH_SURROGATES.filter(_holds_a_lone_surrogate))
    def check(document):
        body = json.dumps(document).encode()  # ASCII: each surrogate as its \uXXXX escape

        response = client.generic(method, path, body, content_type="application/json")

        assert (response.status_code, response.json()["code"]) == (400, "parse_error"), (document, response.content)

    check()


def test_a_surrogate_pair_is_the_character_it_encodes(api, customer):
    client = api.as_user(customer).client

    response = client.generic("PATCH", "/api/me/", b'{"name": "Chris \\ud83d\\ude00"}', content_type="application/json")

    assert response.status_code == 200 and response.json()["name"] == "Chris 😀"


def test_a_signed_whatsapp_body_with_a_lone_surrogate_is_kept_with_a_replacement_character(
    client, settings, now, customer
):
    """Meta cannot mend its body and retries a refusal for hours: the text keeps
    U+FFFD where the lone half was, and the rest of the batch is recorded."""
    from apps.common.tests.factories import NotificationFactory
    from apps.notifications.models import InboundMessage

    settings.WHATSAPP_APP_SECRET = "app-secret"
    sent = NotificationFactory(
        booking=BookingFactory(customer=customer), status="sent", channel="whatsapp", provider="whatsapp_cloud"
    )
    sent.provider_message_id = "wamid.OUT1"
    sent.save()
    sender = customer.phone.lstrip("+")
    value = (
        f'{{"messages":[{{"id":"wamid.IN1","from":"{sender}","timestamp":"1772341200","type":"text",'
        f'"text":{{"body":"hi {LONE_SURROGATE} \\ud83d\\ude00"}}}}],'
        '"statuses":[{"id":"wamid.OUT1","status":"delivered","timestamp":"1772341210"}]}'
    )
    raw = f'{{"entry":[{{"id":"W","changes":[{{"field":"messages","value":{value}}}]}}]}}'.encode()
    signature = "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()

    response = _post_raw(client, "/api/webhooks/whatsapp/", raw, HTTP_X_HUB_SIGNATURE_256=signature)

    assert response.status_code == 200 and response.json() == {"received": 2}
    assert InboundMessage.objects.get().text == "hi \ufffd 😀"
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_the_trailing_slash_is_served_not_redirected(
    api, now, settings, customer, haircut, stylist, debug
):
    settings.DEBUG = debug

    response = api.as_user(customer).post(
        "/api/bookings", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-01T10:00:00+03:00"}
    )
    listed = api.get("/api/bookings")

    assert response.status_code == 201, response.content[:300]
    assert listed.status_code == 200 and len(listed.json()["results"]) == 1


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/nope/", "/api/nope", "/api/bookings/1/extra/", "/api/salons/x/y"])
def test_unknown_api_paths_are_json_404s(client, settings, db, debug, path):
    settings.DEBUG = debug

    response = client.get(path)

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("session", [False, True], ids=["anonymous", "with-session-cookie"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("path", ["/api/nope/", "/api/nope", "/api/bookings/1/extra/"])
def test_unknown_api_paths_are_json_404s_for_every_method_with_csrf_checks(db, session, method, path):
    """A browser-like client (CSRF enforced, maybe an admin session cookie) gets the
    API's 404, not Django's HTML CSRF page."""
    from django.test import Client

    from apps.common.tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    if session:
        client.force_login(UserFactory(is_staff=True))

    response = client.generic(method, path, b'{"status": "confirmed"}', content_type="application/json")

    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


@pytest.mark.urls("apps.common.tests.urls_failing")
def test_a_csrf_refusal_under_api_is_json_and_the_admins_stays_a_page(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    api = client.post("/api/plain-form/", {"x": "1"})
    admin = client.post("/admin/login/", {"username": "0500000001", "password": "x"})

    assert api.status_code == 403 and api["Content-Type"] == "application/json"
    assert api.json()["code"] == "csrf_failed"
    assert admin.status_code == 403 and b"<html" in admin.content.lower()


@pytest.mark.urls("apps.common.tests.urls_failing")
@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_under_api_is_a_json_500_in_every_mode(client, settings, db, debug, caplog):
    settings.DEBUG = debug
    client.raise_request_exception = False

    response = client.get("/api/broken/")

    assert response.status_code == 500 and response.json()["code"] == "server_error"
    assert "a bug" in caplog.text  # logged with its traceback for us, not shown to the client


@pytest.mark.urls("apps.common.tests.urls_failing")
def test_an_unavailable_database_is_a_503_with_retry_after_and_one_log_line(client, settings, db, caplog):
    client.raise_request_exception = False

    api = client.get("/api/database-gone/")
    admin = client.get("/admin-database-gone/")

    assert api.status_code == 503 and api["Retry-After"] == str(settings.DEPENDENCY_RETRY_AFTER_SECONDS)
    assert api.json() == {
        "code": "service_unavailable",
        "message": "The database is unavailable right now. Try again in a few seconds.",
        "fields": {"dependency": "database"},
    }
    assert admin.status_code == 503 and b"<h1>Service unavailable</h1>" in admin.content
    assert "Traceback" not in caplog.text
