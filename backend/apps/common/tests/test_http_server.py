"""Requests refused before or around Django still get the API's JSON error shape.

gunicorn answers an over-long request line, oversized headers or a malformed
request itself; backend/gunicorn.conf.py makes those answers JSON. These tests
start gunicorn with that file, as production does, and talk to it over HTTP.
"""

import os
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from apps.common.tests.live import start_web


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("http-server") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salon_api.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_BROKER_URL": "",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    # The schema needs no database: these requests never reach a table.
    process, base = start_web(env, workers=1, ready_path="/api/schema/")
    yield base
    process.stop()


def assert_json_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert body["fields"] == {}
    return body


def test_request_line_over_the_limit_is_a_json_400(server):
    response = httpx.get(f"{server}/api/staff/", params={"page_size": "x" * 5000})

    body = assert_json_error(response, 400, "bad_request")
    assert "Request Line is too large" in body["message"]


def test_header_over_the_field_size_limit_is_a_json_431(server):
    response = httpx.get(f"{server}/api/salons/", headers={"X-Padding": "x" * 9000})

    assert_json_error(response, 431, "request_header_fields_too_large")


def test_malformed_request_line_is_a_json_400(server):
    address = urlsplit(server)
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        raw = b""
        while chunk := connection.recv(4096):
            raw += chunk

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert httpx.Response(400, content=body).json()["code"] == "bad_request"


def test_too_many_query_fields_is_refused_by_django_as_json_400(server):
    # Under gunicorn's line limit, over Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
    query = "&".join(["f="] * 1001)
    assert len(query) < 4000

    response = httpx.get(f"{server}/api/salons/?{query}")

    assert_json_error(response, 400, "bad_request")
