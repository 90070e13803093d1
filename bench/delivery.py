"""Delivery benchmark (issue #3), on PostgreSQL with gunicorn and real Celery workers.

(a) booking-create latency when the provider answers at once vs. in 500 ms, as a ratio;
(c) the queries one booking creation makes. (Worker throughput: bench/worker.py.)

Run with `make bench` (needs PostgreSQL and Redis, as on CI). Writes a JSON
summary to bench/results/delivery.json and prints a Markdown table.
"""

import argparse
import json
import statistics
import time
import uuid
from datetime import datetime, timedelta

from common import BENCH_DATABASE_URL, BROKER, RESULTS, fresh_django, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=150, help="bookings per latency run")
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    fresh_django()

    import httpx
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.common.tests import fake_twilio
    from apps.common.tests.factories import (
        RIYADH,
        ServiceFactory,
        StaffFactory,
        UserFactory,
    )
    from apps.common.tests.live import stack_env, start_web, start_worker, wait_for
    from apps.notifications.models import Notification, NotificationStatus

    haircut = ServiceFactory(salon__name="Bench Salon")
    staff = [StaffFactory(salon=haircut.salon, services=[haircut]) for _ in range(20)]
    customers = [UserFactory() for _ in range(50)]
    tokens = {c.pk: str(RefreshToken.for_user(c).access_token) for c in customers}
    day = [1]

    def slots(count: int):
        """Distinct (staff, start) pairs on a fresh day per run, 09:00-21:00 Riyadh."""
        day[0] += 1
        date = (timezone.now() + timedelta(days=day[0])).astimezone(RIYADH).date()
        first = datetime(date.year, date.month, date.day, 9, 0, tzinfo=RIYADH)
        per_staff = 24
        assert count <= per_staff * len(staff)
        return [(staff[i % len(staff)], first + timedelta(minutes=30 * (i // len(staff)))) for i in range(count)]

    def create(client: httpx.Client, index: int, member, start) -> float:
        customer = customers[index % len(customers)]
        began = time.perf_counter()
        response = client.post(
            "/api/bookings/",
            json={
                "service": haircut.pk,
                "staff": member.pk,
                "start": start.isoformat(),
            },
            headers={"Authorization": f"Bearer {tokens[customer.pk]}"},
        )
        elapsed = time.perf_counter() - began
        if response.status_code != 201:
            raise RuntimeError(f"booking failed: {response.status_code} {response.text}")
        return elapsed

    def pending_count() -> int:
        return Notification.objects.filter(status=NotificationStatus.PENDING).count()

    results: dict = {
        "when": timezone.now().isoformat(),
        "bookings_per_latency_run": args.bookings,
    }

    # (a) latency: instant provider vs 500 ms provider, same worker setup.
    latency = {}
    for label, delay in (("instant", 0.0), ("slow_500ms", 0.5)):
        with fake_twilio.FakeTwilio(behaviour=fake_twilio.ok(delay=delay)) as fake:
            env = stack_env(
                database=BENCH_DATABASE_URL,
                broker=BROKER,
                queue=f"bench-{uuid.uuid4().hex[:8]}",
                **fake.env(),
            )
            worker = start_worker(env, concurrency=8)
            web, base = start_web(env, workers=args.web_workers)
            try:
                with httpx.Client(base_url=base, timeout=30) as client:
                    for i, (member, start) in enumerate(slots(10)):  # warm-up
                        create(client, i, member, start)
                    times = [create(client, i, m, s) for i, (m, s) in enumerate(slots(args.bookings))]
                wait_for(
                    lambda: pending_count() == 0,
                    timeout=600,
                    interval=0.5,
                    what="messages sent",
                )
            finally:
                web.stop()
                worker.stop()
        latency[label] = {
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(percentile(times, 0.95) * 1000, 2),
            "mean_ms": round(statistics.fmean(times) * 1000, 2),
        }
    latency["ratio_p50"] = round(latency["slow_500ms"]["p50_ms"] / latency["instant"]["p50_ms"], 3)
    latency["ratio_p95"] = round(latency["slow_500ms"]["p95_ms"] / latency["instant"]["p95_ms"], 3)
    results["latency"] = latency

    # (c) queries of one booking creation, counted in-process through the API view.
    from django.test import Client

    member, start = slots(1)[0]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {tokens[customers[0].pk]}")
    # The outer transaction holds the after-commit delivery until the count is taken.
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/bookings/",
            {"service": haircut.pk, "staff": member.pk, "start": start.isoformat()},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    results["queries_per_booking_creation"] = len(queries)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "delivery.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print("| provider | p50 ms | p95 ms | mean ms |")
    print("| --- | --- | --- | --- |")
    for label in ("instant", "slow_500ms"):
        row = latency[label]
        print(f"| {label} | {row['p50_ms']} | {row['p95_ms']} | {row['mean_ms']} |")
    print(f"\nratio p50 {latency['ratio_p50']}, p95 {latency['ratio_p95']}")
    print(f"\nqueries per booking creation: {results['queries_per_booking_creation']}")


if __name__ == "__main__":
    main()
