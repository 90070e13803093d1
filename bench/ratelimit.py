"""Provider rate limit held across workers (issue #23), on PostgreSQL with Redis.

10,000 reminders fall due in the same minute (5,000 bookings, customer and staff
member each); two Celery worker processes deliver them to a fake provider that
takes at most LIMIT messages a second (a token bucket of one second) and refuses
the rest with 429 / 20429. PROVIDER_RATE_LIMITS holds the workers to it together.
Measured: refusals for rate (goal 0) and the rate sustained (goal >= 90% of LIMIT).

Run with `make bench` (needs PostgreSQL and Redis). Writes bench/results/ratelimit.json
and prints a Markdown row.
"""

import argparse
import json
import os
import uuid

from common import BENCH_DATABASE_URL, BROKER, RESULTS, fresh_django, reminder_burst

QUEUE = f"bench-ratelimit-{uuid.uuid4().hex[:8]}"
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["CELERY_QUEUE"] = QUEUE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--bookings",
        type=int,
        default=5000,
        help="two reminders each (customer, staff)",
    )
    parser.add_argument("--limit", type=int, default=80, help="the provider's messages per second")
    parser.add_argument("--concurrency", type=int, default=16, help="per worker process (two of them)")
    args = parser.parse_args()

    fresh_django()
    from django.utils import timezone

    from apps.common.tests import fake_twilio
    from apps.common.tests.live import stack_env, start_worker, wait_for
    from apps.notifications.models import (
        Notification,
        NotificationStatus,
    )
    from apps.notifications.reminders import reminder_scan

    reminder_burst(bookings=args.bookings)
    with fake_twilio.FakeTwilio(behaviour=fake_twilio.rate_limited(args.limit, delay=0.05)) as fake:
        from django.conf import settings

        limits = json.dumps({"twilio": args.limit})
        for key, value in fake.env().items():
            setattr(settings, key, value)
        settings.NOTIFICATION_PROVIDER = "twilio"
        env = stack_env(
            database=BENCH_DATABASE_URL,
            broker=BROKER,
            queue=QUEUE,
            PROVIDER_RATE_LIMITS=limits,
            **fake.env(),
        )
        workers = [start_worker(env, concurrency=args.concurrency, name=name) for name in ("a", "b")]
        try:
            scan = reminder_scan()
            wait_for(
                lambda: not Notification.objects.filter(status=NotificationStatus.PENDING).exists(),
                timeout=3600,
                interval=1,
                what="reminders delivered",
            )
        finally:
            for worker in workers:
                worker.stop()
        calls = fake.calls()
    accepted = sorted(call.arrived_at for call in calls if call.status == 201)
    refused = sum(1 for call in calls if call.status == 429)
    seconds = accepted[-1] - accepted[0]
    result = {
        "when": timezone.now().isoformat(),
        "reminders": scan.written,
        "limit_per_second": args.limit,
        "workers": 2,
        "concurrency_each": args.concurrency,
        "sent": len(accepted),
        "refused_for_rate": refused,
        "seconds": round(seconds, 1),
        "sustained_per_second": round(len(accepted) / seconds, 1),
        "share_of_limit": round(len(accepted) / seconds / args.limit, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ratelimit.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print("\n| reminders | provider limit | workers | refused for rate | sustained msg/s | share of limit |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {result['reminders']} | {args.limit}/s | 2 x {args.concurrency} | {refused} | "
        f"{result['sustained_per_second']} | {result['share_of_limit']:.0%} |"
    )


if __name__ == "__main__":
    main()
