"""Worker benchmark (issue #13): how close a prefork worker comes to its ceiling,
and whether its memory stays flat.

(a) Dispatch: messages queued with no worker running, then one worker of each
concurrency drains them against a fake Twilio answering every call in 100 ms;
the ceiling is concurrency / 0.1 s. (b) Memory: 100,000 messages through one
worker against an instant fake provider, the resident memory of the worker (its
main process and children) sampled as it goes.

Writes bench/results/worker.json and prints Markdown tables.
"""

import argparse
import json
import os
import time
import uuid
from datetime import timedelta

from common import BENCH_DATABASE_URL, BROKER, RESULTS, fresh_django

QUEUE = f"bench-worker-{uuid.uuid4().hex[:8]}"
os.environ["CELERY_BROKER_URL"] = BROKER
os.environ["CELERY_QUEUE"] = QUEUE


def rows(count: int, service, staff, customers) -> list[int]:
    """``count`` pending notifications, written directly (as bookings' outbox would)."""
    from django.utils import timezone

    from apps.bookings.models import Booking, BookingStatus
    from apps.notifications.delivery.policy import retry_deadline
    from apps.notifications.models import Notification

    start = timezone.now() + timedelta(days=3 + Booking.objects.count())  # one booking per call, apart
    booking = Booking.objects.create(
        salon=service.salon, service=service, customer=customers[0], staff=staff, start=start,
        end=start + timedelta(minutes=30), busy_until=start + timedelta(minutes=30), status=BookingStatus.CONFIRMED,
    )  # fmt: skip
    deadline = retry_deadline(timezone.now())
    made = Notification.objects.bulk_create(
        (
            Notification(
                booking=booking, recipient=customers[i % len(customers)], phone=customers[i % len(customers)].phone,
                event="booking_reminder", channel="sms", sequence=0, reminder_offset_minutes=i + 1,
                provider="twilio", message=f"Reminder {i}", retry_until=deadline,
            )
            for i in range(count)
        ),
        batch_size=5000,
    )  # fmt: skip
    return [row.pk for row in made]


def publish(ids: list[int]) -> None:
    from apps.notifications.delivery.publishing import publish_now_rollback_unsafe

    for notification_id in ids:
        publish_now_rollback_unsafe(notification_id)


def worker_memory(process) -> int:
    import psutil

    main = psutil.Process(process.popen.pid)
    return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument(
        "--per-process",
        type=int,
        default=40,
        help="messages per worker process for (a)",
    )
    parser.add_argument("--memory-messages", type=int, default=100_000)
    args = parser.parse_args()

    fresh_django()
    from django.conf import settings

    from apps.common.tests import fake_twilio
    from apps.common.tests.factories import ServiceFactory, StaffFactory, UserFactory
    from apps.common.tests.live import stack_env, start_worker, wait_for
    from apps.notifications.models import Notification, NotificationStatus

    service = ServiceFactory()
    staff = StaffFactory(salon=service.salon, services=[service])
    customers = [UserFactory() for _ in range(50)]
    results: dict = {"dispatch": [], "memory": {}}

    def pending() -> int:
        return Notification.objects.filter(status=NotificationStatus.PENDING).count()

    for concurrency in args.concurrency:
        with fake_twilio.FakeTwilio(behaviour=fake_twilio.ok(delay=0.1)) as fake:
            for key, value in fake.env().items():
                setattr(settings, key, value)
            count = concurrency * args.per_process
            publish(rows(count, service, staff, customers))
            env = stack_env(
                database=BENCH_DATABASE_URL,
                broker=BROKER,
                queue=QUEUE,
                LOG_LEVEL="WARNING",
                **fake.env(),
            )
            worker = start_worker(env, concurrency=concurrency)
            try:
                wait_for(
                    lambda: pending() == 0,
                    timeout=900,
                    interval=0.2,
                    what="queue drained",
                )
            finally:
                worker.stop()
            replies = sorted(r.replied_at for r in fake.successes())
            window = replies[-1] - fake.calls()[0].arrived_at
            rate = len(fake.successes()) / window
            ceiling = concurrency / 0.1
            results["dispatch"].append(
                {"concurrency": concurrency, "messages": count, "msg_per_s": round(rate, 1),
                 "ceiling": ceiling, "share": round(rate / ceiling, 3)}
            )  # fmt: skip
            print(results["dispatch"][-1], flush=True)

    # (b) memory over many messages: an instant provider, the default concurrency.
    with fake_twilio.FakeTwilio() as fake:
        for key, value in fake.env().items():
            setattr(settings, key, value)
        ids = rows(args.memory_messages, service, staff, customers)
        env = stack_env(
            database=BENCH_DATABASE_URL,
            broker=BROKER,
            queue=QUEUE,
            LOG_LEVEL="WARNING",
            **fake.env(),
        )
        worker = start_worker(env, concurrency=16)
        samples = []
        started = time.monotonic()
        try:
            chunk = 5000
            for first in range(0, len(ids), chunk):
                publish(ids[first : first + chunk])
                wait_for(lambda n=first + chunk: len(fake.successes()) >= min(n, len(ids)) - 200, timeout=900,
                         interval=0.5, what="chunk sent")  # fmt: skip
                samples.append((len(fake.successes()), worker_memory(worker)))
            wait_for(lambda: pending() == 0, timeout=900, interval=0.5, what="all sent")
            samples.append((len(fake.successes()), worker_memory(worker)))
        finally:
            worker.stop()
        elapsed = time.monotonic() - started
    mib = [rss / 2**20 for _, rss in samples]
    results["memory"] = {
        "messages": len(ids),
        "seconds": round(elapsed),
        "rss_mib_after_first_5000": round(mib[0], 1),
        "rss_mib_peak": round(max(mib), 1),
        "rss_mib_end": round(mib[-1], 1),
        "samples": [(n, round(m, 1)) for (n, _), m in zip(samples, mib, strict=True)],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worker.json").write_text(json.dumps(results, indent=2))
    print("\n| concurrency | messages | msg/s | ceiling | share |\n| --- | --- | --- | --- | --- |")
    for row in results["dispatch"]:
        print(f"| {row['concurrency']} | {row['messages']} | {row['msg_per_s']} | {row['ceiling']:.0f} | "
              f"{row['share']:.0%} |")  # fmt: skip
    memory = results["memory"]
    print(f"\nmemory over {memory['messages']} messages ({memory['seconds']} s): "
          f"{memory['rss_mib_after_first_5000']} MiB after 5,000, peak {memory['rss_mib_peak']}, "
          f"end {memory['rss_mib_end']} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
