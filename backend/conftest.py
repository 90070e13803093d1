"""Fixtures shared by the whole suite."""

import os
import shutil
import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.common.tests.factories import ServiceFactory, StaffFactory, UserFactory

RIYADH = ZoneInfo("Asia/Riyadh")
# Every test runs at this moment unless it travels elsewhere: a Saturday morning
# in Riyadh, the day before the SPEC's example booking (2026-03-01 10:00).
NOW = datetime(2026, 2, 28, 8, 0, tzinfo=RIYADH)


@pytest.fixture(autouse=True, scope="session")
def _no_internet():
    """Tests talk to this machine only (PostgreSQL, Redis, local fake servers):
    any other address is refused, so the suite passes with the network unplugged."""
    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("localhost", "::1") and not str(host).startswith("127."):
            raise ConnectionRefusedError(f"tests must not reach the network (tried {address})")
        return real_connect(sock, address)

    socket.socket.connect = loopback_only
    yield
    socket.socket.connect = real_connect


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_in_process():
    """Tasks published by the code under test run here and now, as if a worker took
    them at once (live tests start real workers over Redis instead)."""
    from salon_api.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _isolated(settings):
    cache.clear()
    settings.OTP_PROVIDER = "console"
    settings.NOTIFICATION_PROVIDER = "console"
    settings.NOTIFICATION_DEFAULT_CHANNEL = "sms"
    # Admin logins in tests need a password, not a production-strength hash of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Gauges read fresh in every scrape, unless a test is about the metrics cache.
    settings.METRICS_CACHE_SECONDS = 0


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


class Api:
    """A JSON client that runs on-commit work (message delivery) like a real request."""

    def __init__(self, capture):
        self.client = APIClient()
        self._capture = capture

    def as_user(self, user):
        if user is None:
            self.client.credentials()
        else:
            token = RefreshToken.for_user(user).access_token
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return self

    def _call(self, method, path, data=None, **extra):
        with self._capture(execute=True):
            return getattr(self.client, method)(path, data, format="json", **extra)

    def get(self, path, data=None, **extra):
        with self._capture(execute=True):
            return self.client.get(path, data, **extra)

    def post(self, path, data=None, **extra):
        return self._call("post", path, data, **extra)

    def patch(self, path, data=None, **extra):
        return self._call("patch", path, data, **extra)

    def put(self, path, data=None, **extra):
        return self._call("put", path, data, **extra)

    def delete(self, path, data=None, **extra):
        return self._call("delete", path, data, **extra)


@pytest.fixture
def api(django_capture_on_commit_callbacks):
    return Api(django_capture_on_commit_callbacks)


@pytest.fixture
def admin_client(client, db):
    """A superuser logged in to the Django admin (users are identified by phone)."""
    from apps.accounts.models import User

    admin = User.objects.create_superuser(phone="+966509999999", password="pw-for-tests-only", preferred_language="en")
    client.force_login(admin)
    return client


@pytest.fixture
def haircut(db):
    return ServiceFactory(salon__name="Main Salon", salon__name_ar="الصالون الرئيسي")


@pytest.fixture
def salon(haircut):
    return haircut.salon


@pytest.fixture
def stylist(haircut):
    return StaffFactory(salon=haircut.salon, services=[haircut], name="Sara", preferred_language="ar")


@pytest.fixture
def customer(db):
    return UserFactory(name="Chris", preferred_language="en")


# --- real services ------------------------------------------------------------
# Tests that need PostgreSQL, Redis or real worker processes skip when those are
# absent (a newcomer's laptop); SALON_REQUIRE_SERVICES=1 (CI) turns that into a
# failure. They run in the PostgreSQL pass of `make test`.
REQUIRE_SERVICES = os.environ.get("SALON_REQUIRE_SERVICES") == "1"
TEST_REDIS_URL = os.environ.get("SALON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def service_missing(what: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is not available and SALON_REQUIRE_SERVICES=1")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def postgres(transactional_db):
    """Committed data on PostgreSQL, visible to other processes."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass of `make test`")


@pytest.fixture(scope="session")
def redis_url():
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        service_missing(f"Redis at {TEST_REDIS_URL}")
    return TEST_REDIS_URL


@pytest.fixture
def meta(settings):
    """A fake WhatsApp Cloud API (Meta) server of the test's own; WhatsApp goes there,
    SMS stays on the console provider."""
    from apps.common.tests.fake_whatsapp import FakeWhatsApp

    with FakeWhatsApp() as fake:
        for key, value in fake.settings().items():
            setattr(settings, key, value)
        settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
        yield fake


@pytest.fixture
def webhook(live_server):
    """Where Meta posts: the live server's WhatsApp webhook."""
    return f"{live_server.url}/api/webhooks/whatsapp/"


@pytest.fixture
def stack(postgres, redis_url):
    """A worker, beat and web server of the test's own (started on demand) on its own
    Celery queue, over the test's PostgreSQL database and Redis; stopped after."""
    from apps.common.tests.live import Stack

    stack = Stack(redis_url)
    yield stack
    stack.close()


@pytest.fixture(scope="session")
def redis_server_binary():
    if shutil.which("redis-server") is None:
        service_missing("the redis-server program")
    return shutil.which("redis-server")


@pytest.fixture
def fake_clock(postgres):
    """A clock for the processes a live test starts (libfaketime): ``fake_clock(moment)``."""
    from apps.common.tests.live import LIBFAKETIME, FakeClock

    if LIBFAKETIME is None:
        service_missing("libfaketime (Debian's libfaketime package; `make test-postgres` installs it)")
    clocks = []

    def make(moment):
        clocks.append(FakeClock(moment))
        return clocks[-1]

    yield make
    for clock in clocks:
        clock.remove()
