"""Provider rate limits held by every worker together: the shared schedule in Redis
(and in a file on the embedded broker), and two worker processes against a fake
provider that refuses anything above its limit.

The Redis and live tests run in the PostgreSQL pass (skipped without Redis, a
failure under SALON_REQUIRE_SERVICES=1).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis as redis_lib
from django.utils import timezone

from apps.common.tests import fake_twilio
from apps.common.tests.factories import BookingFactory, NotificationFactory
from apps.common.tests.live import Stack, run_manage, wait_for
from apps.notifications.delivery import pacing
from apps.notifications.models import Notification, NotificationStatus


def _reserve_many(count: int) -> list[float]:
    """``count`` reservations from parallel threads; the moment each one may send."""
    moments = []
    lock = threading.Lock()

    def reserve(_):
        waited = pacing.pace("twilio", "AC-pacing-test")
        with lock:
            moments.append(time.monotonic())
        return waited

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(reserve, range(count)))
    return sorted(moments)


def _max_in_one_second(moments: list[float]) -> int:
    return max(sum(1 for other in moments if moment <= other < moment + 1.0) for moment in moments)


def test_no_limit_set_means_no_wait(settings):
    settings.PROVIDER_RATE_LIMITS = {}

    assert pacing.pace("twilio", "AC1") == 0.0


def test_the_embedded_schedule_is_a_locked_file_shared_by_processes(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://localhost/"
    settings.RUN_DIR = tmp_path
    settings.PROVIDER_RATE_LIMITS = {"twilio": 40}

    moments = _reserve_many(60)

    assert _max_in_one_second(moments) <= 40
    assert moments[-1] - moments[0] >= 59 / 40  # spaced by the limit, not bunched
    assert list((tmp_path / "pacing").iterdir())


@pytest.mark.services
def test_the_redis_schedule_spaces_every_caller(settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    settings.PROVIDER_RATE_LIMITS = {"twilio": 40}
    redis_lib.Redis.from_url(redis_url).delete(*redis_lib.Redis.from_url(redis_url).keys("salon:pace:*") or ["none"])

    moments = _reserve_many(60)

    assert _max_in_one_second(moments) <= 40
    assert moments[-1] - moments[0] >= 59 / 40


@pytest.mark.services
def test_two_workers_never_exceed_the_providers_limit(postgres, redis_url):
    stack = Stack(redis_url)
    limit = 20
    booking = BookingFactory(start=timezone.now() + timedelta(days=1))
    rows = [
        NotificationFactory(booking=booking, event="booking_reminder", reminder_offset_minutes=n + 1, message=f"m{n}")
        for n in range(200)
    ]
    try:
        with fake_twilio.FakeTwilio(behaviour=fake_twilio.rate_limited(limit)) as fake:
            env = stack.env(fake, PROVIDER_RATE_LIMITS=f'{{"twilio": {limit}}}', NOTIFICATION_PROVIDER="twilio")
            stack.worker(env, concurrency=4, name="a")
            stack.worker(env, concurrency=4, name="b")
            run_manage(env, "sweep_notifications", "--older-than", "0")
            wait_for(
                lambda: not Notification.objects.filter(status=NotificationStatus.PENDING).exists(),
                timeout=120,
                interval=0.5,
                what="all 200 sent",
            )
            calls = fake.calls()
    finally:
        stack.close()

    refused = [call for call in calls if call.status == 429]
    arrivals = sorted(call.arrived_at for call in calls)
    assert Notification.objects.filter(pk__in=[r.pk for r in rows], status=NotificationStatus.SENT).count() == 200
    assert refused == []  # not one refusal for rate
    sustained = len(arrivals) / (arrivals[-1] - arrivals[0])
    print(f"\ntwo workers, limit {limit}/s: {sustained:.1f} msg/s sustained, 0 refused")
    assert sustained > limit * 0.5  # the limit is used, not starved (the bench measures how close)
