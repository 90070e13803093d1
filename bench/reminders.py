"""Reminder burst benchmark (issue #10), on PostgreSQL with Redis and a real Celery worker.

10,000 reminders fall due at the same moment (5,000 bookings in the next day, one
reminder offset, so customer and staff member each get one). Measured:
(a) the time one reminder scan takes to write and queue them all, no worker running;
(b) messages per second a prefork worker then delivers to a fake Twilio answering in 100 ms.

Run with `make bench` (needs PostgreSQL and Redis, as on CI). Writes
bench/results/reminders.json and prints a Markdown table.
"""

import argparse
import json
import os
import time
import uuid

from common import BENCH_DATABASE_URL, BROKER, RESULTS, fresh_django, reminder_burst

QUEUE = f"bench-reminders-{uuid.uuid4().hex[:8]}"
# The scan runs in this process and publishes to the same broker and queue as the worker.
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
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 32])
    args = parser.parse_args()

    fresh_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.common.tests import fake_twilio
    from apps.common.tests.live import stack_env, start_worker, wait_for
    from apps.notifications.models import (
        Notification,
        NotificationStatus,
    )
    from apps.notifications.reminders import reminder_scan

    results: dict = {"when": timezone.now().isoformat(), "bookings": args.bookings}
    throughput = []
    for concurrency in args.concurrency:
        reminder_burst(bookings=args.bookings, staff_count=args.staff, salon_name=f"Bench Salon {concurrency}")

        with fake_twilio.FakeTwilio(behaviour=fake_twilio.ok(delay=0.1)) as fake:
            os.environ.update(fake.env())
            from django.conf import settings

            for key, value in fake.env().items():
                setattr(settings, key, value)
            settings.NOTIFICATION_PROVIDER = "twilio"

            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                scan = reminder_scan()
            queued_in = time.perf_counter() - began
            messages = Notification.objects.filter(status=NotificationStatus.PENDING).count()
            assert scan.written == messages == 2 * args.bookings, (scan, messages)

            env = stack_env(database=BENCH_DATABASE_URL, broker=BROKER, queue=QUEUE, **fake.env())
            worker = start_worker(env, concurrency=concurrency)
            try:
                wait_for(
                    lambda: not Notification.objects.filter(status=NotificationStatus.PENDING).exists(),
                    timeout=1800,
                    interval=0.5,
                    what="reminders delivered",
                )
            finally:
                worker.stop()
            replies = sorted(r.replied_at for r in fake.successes())
            window = replies[-1] - fake.calls()[0].arrived_at
        sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
        throughput.append(
            {
                "concurrency": concurrency,
                "reminders": messages,
                "scan_seconds": round(queued_in, 2),
                "scan_queries": len(queries),
                "reminders_queued_per_second": round(messages / queued_in),
                "sent": sent,
                "delivery_seconds": round(window, 1),
                "messages_per_second": round(sent / window, 1),
                "ceiling_per_second": round(concurrency / 0.1, 1),
            }
        )
    results["runs"] = throughput

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reminders.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(
        "\n| worker concurrency | reminders | scan: seconds to write and queue | scan queries | "
        "delivered msg/s (100 ms provider) | ceiling |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for row in throughput:
        print(
            f"| {row['concurrency']} | {row['reminders']} | {row['scan_seconds']} | {row['scan_queries']} | "
            f"{row['messages_per_second']} | {row['ceiling_per_second']} |"
        )


if __name__ == "__main__":
    main()
