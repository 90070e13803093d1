"""Faults with real servers the test starts, stops and pauses: a Redis of its own
(cache and broker) and a PostgreSQL of its own, under gunicorn and a Celery worker.

A dependency that is down is a JSON 503 with Retry-After within seconds, login
codes fail closed, what does not need it keeps answering, and everything
recovers without a restart, with no booking half-written and no message lost.
Runs in the PostgreSQL pass of `make test` (skipped without the servers, a
failure under SALON_REQUIRE_SERVICES=1).
"""

import glob
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import OneTimeCode
from apps.common.tests import fake_twilio
from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.live import (
    PostgresServer,
    database_url,
    free_port,
    run_manage,
    stack_env,
    start_redis,
    start_web,
    start_worker,
    wait_for,
)
from apps.notifications.models import Notification, NotificationStatus
from conftest import service_missing

pytestmark = pytest.mark.services


def _assert_unavailable(response: httpx.Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"
    assert response.json()["fields"] == {"dependency": dependency}


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _otp(base: str, phone: str) -> httpx.Response:
    return httpx.post(f"{base}/api/auth/otp/request/", json={"phone": phone}, timeout=30)


_phones = iter(range(1000, 10000))


def _login_codes_work(base: str) -> bool:
    """A code for a fresh phone is accepted (each try uses a new number: no cooldown)."""
    return _otp(base, f"05510{next(_phones):05d}").status_code == 202


def _start(day: int, slot: int) -> str:
    local = (timezone.now() + timedelta(days=day)).astimezone(RIYADH).date()
    return (
        datetime(local.year, local.month, local.day, 9, 0, tzinfo=RIYADH) + timedelta(minutes=30 * slot)
    ).isoformat()


# --- Redis ----------------------------------------------------------------------------
@pytest.fixture
def own_redis(redis_server_binary):
    port = free_port()
    servers = [start_redis(port)]
    yield port, servers
    for server in servers:
        server.stop()


def test_redis_stopped_and_hung_gives_503s_and_everything_recovers(postgres, own_redis):
    port, servers = own_redis
    redis_url = f"redis://127.0.0.1:{port}/0"
    haircut = ServiceFactory(salon__name="Main Salon")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    customer = UserFactory()
    token = str(RefreshToken.for_user(customer).access_token)
    from django.db import connection

    with fake_twilio.FakeTwilio() as fake:
        env = stack_env(
            database=database_url(connection.settings_dict),
            broker=redis_url,
            queue=f"faults-{uuid.uuid4().hex[:8]}",
            REDIS_URL=redis_url,
            **fake.env(),
        )
        worker = start_worker(env, concurrency=2)
        web, base = start_web(env)
        bookings = []

        def book(slot: int) -> tuple[httpx.Response, float]:
            response, took = _timed(
                lambda: httpx.post(
                    f"{base}/api/bookings/",
                    json={"service": haircut.pk, "staff": stylist.pk, "start": _start(1, slot)},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
            )
            bookings.append(response)
            return response, took

        try:
            assert _otp(base, "0551000001").status_code == 202
            assert book(0)[0].status_code == 201

            # 1. Redis stopped
            servers[0].kill()
            asked, took = _timed(lambda: _otp(base, "0551000002"))
            _assert_unavailable(asked, "cache")
            assert took < 3
            checked = httpx.post(f"{base}/api/auth/otp/verify/", json={"phone": "0551000001", "code": "123456"})
            _assert_unavailable(checked, "cache")
            booked, took = book(1)
            assert booked.status_code == 201 and took < 8  # the booking does not need Redis
            assert httpx.get(f"{base}/api/salons/").status_code == 200
            ready = httpx.get(f"{base}/api/health/ready/", timeout=30)
            assert ready.status_code == 503
            assert ready.json()["checks"]["cache"] == ready.json()["checks"]["broker"] == "failed"

            # 2. Redis back on the same port: no restart of anything of ours
            servers.append(start_redis(port))
            wait_for(lambda: _login_codes_work(base), timeout=15, what="login codes again")
            wait_for(lambda: httpx.get(f"{base}/api/health/ready/").status_code == 200, timeout=30, what="ready")

            # 3. Redis hung (SIGSTOP): requests wait for the socket timeout, not forever
            servers[-1].signal_group(signal.SIGSTOP)
            asked, took = _timed(lambda: _otp(base, "0551000004"))
            _assert_unavailable(asked, "cache")
            assert took < 4
            booked, took = book(2)
            assert booked.status_code == 201 and took < 10
            servers[-1].signal_group(signal.SIGCONT)
            wait_for(lambda: _login_codes_work(base), timeout=15, what="login codes again")

            # Nothing lost: every booking's messages arrive once (the sweep publishes
            # what the broker could not take).
            wait_for(
                lambda: run_manage(env, "sweep_notifications", "--older-than", "0")
                and not Notification.objects.filter(status=NotificationStatus.PENDING).exists(),
                timeout=90,
                interval=2,
                what="every message sent",
            )
        finally:
            web.stop()
            worker.stop()
        log = web.log()

    assert [r.status_code for r in bookings] == [201, 201, 201]
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 6
    assert len(fake.successes()) == 6 and fake.delivered_more_than_once() == {}
    assert OneTimeCode.objects.filter(phone__in=["+966551000002", "+966551000004"]).count() == 0
    assert "Traceback" not in log


# --- PostgreSQL -----------------------------------------------------------------------
@pytest.fixture
def own_postgres(postgres):
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        service_missing("PostgreSQL server binaries (initdb)")
    server = PostgresServer(Path(binaries[-1]).parent)
    server.start()
    server.create_database()
    yield server
    server.remove()


def test_postgresql_stopped_for_ten_seconds_under_a_stream_of_bookings(own_postgres, tmp_path):
    env = stack_env(
        database=own_postgres.url,
        broker="filesystem://localhost/",
        queue="salon",
        SALON_RUN_DIR=str(tmp_path),
        NOTIFICATION_PROVIDER="console",
        DATABASE_CONN_MAX_AGE="60",
    )
    run_manage(env, "migrate", "--noinput")
    run_manage(env, "load_demo")
    with psycopg.connect(own_postgres.url.replace("postgres://", "postgresql://")) as conn:
        customer_id = conn.execute("SELECT id FROM accounts_user WHERE phone = '+966500000002'").fetchone()[0]
        staff_id = conn.execute("SELECT id FROM accounts_user WHERE phone = '+966500000003'").fetchone()[0]

    access = str(AccessToken.for_user(SimpleNamespace(id=customer_id)))
    web, base = start_web(env)
    answers: list[tuple[int, float, dict, dict]] = []
    stop = threading.Event()

    def stream():
        slot = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                started = time.monotonic()
                response = client.post(
                    "/api/bookings/",
                    json={"service": 1, "staff": staff_id, "start": _start(1 + slot // 24, slot % 24)},
                    headers={"Authorization": f"Bearer {access}"},
                )
                body = response.json()
                answers.append((response.status_code, time.monotonic() - started, body, dict(response.headers)))
                if response.status_code == 201:
                    slot += 1
                time.sleep(0.05)

    streamer = threading.Thread(target=stream)
    try:
        streamer.start()
        wait_for(lambda: sum(1 for a in answers if a[0] == 201) >= 5, timeout=30, what="bookings before")
        own_postgres.stop()
        down_at = time.monotonic()
        ready_while_down = httpx.get(f"{base}/api/health/ready/", timeout=30)
        time.sleep(max(0, 10 - (time.monotonic() - down_at)))
        own_postgres.start()
        before_recovery = len(answers)
        wait_for(
            lambda: sum(1 for a in answers[before_recovery:] if a[0] == 201) >= 5, timeout=30, what="bookings after"
        )
        ready_after = httpx.get(f"{base}/api/health/ready/", timeout=30)
    finally:
        stop.set()
        streamer.join(timeout=60)
        web.stop()

    statuses = [status for status, *_ in answers]
    unavailable = [a for a in answers if a[0] == 503]
    assert set(statuses) == {201, 503}, sorted(set(statuses))
    assert len(unavailable) >= 10
    for _, took, body, headers in unavailable:
        assert body["code"] == "service_unavailable" and body["fields"] == {"dependency": "database"}
        assert headers["retry-after"] == "5"
        assert took < 5  # a refused connection fails fast; the connect timeout bounds a silent one
    assert ready_while_down.status_code == 503 and ready_while_down.json()["checks"]["database"] == "failed"
    assert ready_after.status_code == 200
    created = statuses.count(201)
    with psycopg.connect(own_postgres.url.replace("postgres://", "postgresql://")) as conn:
        bookings = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM bookings_booking b WHERE "
            "(SELECT count(*) FROM notifications_notification n WHERE n.booking_id = b.id) <> 2"
        ).fetchone()[0]
    assert bookings == created and orphans == 0  # nothing half-written
    log = web.log()
    assert "Traceback" not in log
    print(f"\npostgres down 10 s: {created} bookings, {len(unavailable)} x 503, none other")


# --- login codes across processes -------------------------------------------------------
@pytest.fixture
def web_on_postgres(postgres, tmp_path):
    from django.db import connection

    def start(**extra):
        env = stack_env(
            database=database_url(connection.settings_dict),
            broker="filesystem://localhost/",
            queue="salon",
            SALON_RUN_DIR=str(tmp_path),
            **extra,
        )
        process, base = start_web(env, workers=2, threads=4)
        started.append(process)
        return base

    started = []
    yield start
    for process in started:
        process.stop()


def test_thirty_parallel_requests_for_one_phone_issue_one_code(web_on_postgres):
    """Two gunicorn workers, no Redis (a cache per process): the database decides."""
    base = web_on_postgres(OTP_REQUEST_RATE_PER_PHONE="1000/hour", OTP_REQUEST_RATE_PER_IP="1000/hour")

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda _: _otp(base, "0552223344").status_code, range(30)))

    assert sorted(statuses) == [202] + [429] * 29
    assert OneTimeCode.objects.filter(phone="+966552223344").count() == 1


def test_the_global_budget_holds_under_concurrent_requests_from_many_addresses(web_on_postgres):
    base = web_on_postgres(OTP_REQUEST_RATE_GLOBAL="50/hour", TRUSTED_PROXY_COUNT="1", OTP_REQUEST_RATE_PER_IP="5/hour")

    def ask(index: int) -> int:
        return httpx.post(
            f"{base}/api/auth/otp/request/",
            json={"phone": f"05{61000000 + index}"},
            headers={"X-Forwarded-For": f"10.1.{index // 250}.{index % 250 + 1}"},
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(ask, range(200)))

    assert statuses.count(202) == 50 and statuses.count(429) == 150
    assert OneTimeCode.objects.count() == 50


# --- static files in production -------------------------------------------------------------
def test_the_docs_and_the_admin_load_every_asset_under_gunicorn_without_debug(web_on_postgres, tmp_path):
    import re

    from django.db import connection

    static_root = tmp_path / "static"
    env = stack_env(
        database=database_url(connection.settings_dict),
        broker="filesystem://localhost/",
        queue="salon",
        STATIC_ROOT=str(static_root),
        DEBUG="0",
    )
    run_manage(env, "collectstatic", "--noinput")
    base = web_on_postgres(STATIC_ROOT=str(static_root), DEBUG="0")

    for page in ("/api/docs/", "/admin/login/"):
        response = httpx.get(f"{base}{page}")
        assert response.status_code == 200, page
        assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text))
        assert assets, page
        for asset in assets:
            fetched = httpx.get(f"{base}{asset}")
            assert fetched.status_code == 200, asset
            assert len(fetched.content) > 0


# --- metrics and readiness with the broker down ---------------------------------------------
def _scrape(base: str, token: str = "scrape-secret") -> tuple[httpx.Response, float]:
    return _timed(lambda: httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30))


def test_with_the_broker_stopped_or_hung_metrics_answer_fast_and_readiness_says_only_failed(postgres, own_redis):
    """Production settings under gunicorn, a Redis of our own for the cache and another
    for the broker: the broker is stopped, then started again and paused."""
    from django.db import connection

    cache_port, _cache_servers = own_redis
    broker_port = free_port()
    brokers = [start_redis(broker_port)]
    env = stack_env(
        database=database_url(connection.settings_dict),
        broker=f"redis://127.0.0.1:{broker_port}/0",
        queue=f"metrics-{uuid.uuid4().hex[:8]}",
        REDIS_URL=f"redis://127.0.0.1:{cache_port}/0",
        DJANGO_ENV="production",
        SECURE_SSL_REDIRECT="0",  # no TLS proxy in front of this gunicorn
        METRICS_TOKEN="scrape-secret",
        METRICS_CACHE_SECONDS="2",
    )
    web, base = start_web(env)
    try:
        anonymous = httpx.get(f"{base}/metrics")
        healthy, _ = _scrape(base)
        ready = httpx.get(f"{base}/api/health/ready/")

        brokers[0].kill()
        time.sleep(2.5)  # past the metrics cache window: each worker asks the stopped broker again
        stopped = [_scrape(base) for _ in range(5)]
        ready_stopped, ready_took = _timed(lambda: httpx.get(f"{base}/api/health/ready/", timeout=30))

        brokers.append(start_redis(broker_port))
        wait_for(lambda: httpx.get(f"{base}/api/health/ready/").status_code == 200, timeout=30, what="ready again")
        brokers[-1].signal_group(signal.SIGSTOP)
        time.sleep(2.5)  # past the metrics cache window: the next scrape asks the hung broker
        hung = [_scrape(base) for _ in range(5)]
        brokers[-1].signal_group(signal.SIGCONT)
    finally:
        web.stop()
        for broker in brokers:
            broker.signal_group(signal.SIGCONT)
            broker.stop()
    log = web.log()
    print(
        f"\n/metrics with the broker stopped: {[round(t, 3) for _, t in stopped]} s, "
        f"hung: {[round(t, 3) for _, t in hung]} s; readiness stopped: {ready_took:.3f} s"
    )

    assert anonymous.status_code == 401 and b"salon_" not in anonymous.content
    assert healthy.status_code == 200 and "salon_queue_depth 0.0" in healthy.text
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "cache": "ok", "broker": "ok"}
    for response, took in stopped + hung:
        assert response.status_code == 200 and "salon_notifications_pending" in response.text
        assert took < 1.0, [round(t, 2) for _, t in stopped + hung]
    for response, _ in stopped + hung:  # each worker read the broker once in its window: unreadable
        assert "salon_queue_depth -1.0" in response.text
    assert ready_stopped.status_code == 503 and ready_took < 3
    assert ready_stopped.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "broker": "failed"},
    }
    assert str(broker_port) not in ready_stopped.text and "127.0.0.1" not in ready_stopped.text
    assert "Traceback" not in log
