"""Export benchmark (issue #20): GET /api/me/export/ for a customer with 500 bookings
and 3,000 messages, through gunicorn on PostgreSQL, as a client sees it.

Goal: the whole answer within a second. Measured: time to the last byte of the answer
over sequential requests (p50, p95, max), its size, and the queries one export makes
(in-process, same service). Writes bench/results/export.json and prints a Markdown row.

Run with `make bench` (needs PostgreSQL), or alone: `.venv/bin/python bench/export.py`.
"""

import argparse
import json
import time
from datetime import timedelta

from common import BENCH_DATABASE_URL, BROKER, RESULTS, fresh_django, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    fresh_django()
    import httpx
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import Role, User
    from apps.bookings.models import Booking, BookingStatus
    from apps.common.tests.factories import ServiceFactory, StaffFactory
    from apps.common.tests.live import stack_env, start_web
    from apps.notifications.models import InboundMessage, Notification
    from apps.privacy.services import person_export

    haircut = ServiceFactory(salon__name="Bench Salon")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut])
    customer = User.objects.create(phone="+966539870000", name="Bench Customer", role=Role.CUSTOMER)
    first = timezone.now() - timedelta(days=400)
    bookings = Booking.objects.bulk_create(
        Booking(
            salon=haircut.salon,
            service=haircut,
            customer=customer,
            staff=stylist,
            start=first + timedelta(days=i),
            end=first + timedelta(days=i, minutes=30),
            busy_until=first + timedelta(days=i, minutes=30),
            status=BookingStatus.COMPLETED,
            note="Short at the back, please.",
        )
        for i in range(args.bookings)
    )
    per_booking = -(-args.messages // args.bookings)
    Notification.objects.bulk_create(
        (
            Notification(
                booking=booking,
                recipient=customer,
                phone=customer.phone,
                event="booking_rescheduled",
                sequence=n,
                channel="sms",
                status="sent",
                provider="twilio",
                message=f"Your booking for Haircut at Bench Salon moved from 2026-03-01 10:00 to 2026-03-0{n % 9 + 1}.",
                sent_at=booking.start - timedelta(days=1),
            )
            for booking in bookings
            for n in range(per_booking)
        ),
        batch_size=2000,
    )
    messages = Notification.objects.filter(recipient=customer).count()
    InboundMessage.objects.bulk_create(
        InboundMessage(
            provider="twilio", provider_message_id=f"SM{i}", channel="sms", phone=customer.phone, user=customer,
            text="Running ten minutes late", outcome="stored",
        )
        for i in range(20)
    )  # fmt: skip

    with CaptureQueriesContext(connection) as queries:
        person_export(user=customer)
    token = str(RefreshToken.for_user(customer).access_token)

    env = stack_env(database=BENCH_DATABASE_URL, broker=BROKER, queue="bench-export", DATA_EXPORT_RATE="100000/hour")
    web, base = start_web(env, workers=2)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(3):  # warm: connections, statement preparation
                assert client.get("/api/me/export/").status_code == 200
            times, size = [], 0
            for _ in range(args.requests):
                began = time.perf_counter()
                answer = client.get("/api/me/export/")
                body = answer.content
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text[:300]
                size = len(body)
            document = answer.json()
    finally:
        web.stop()
    assert len(document["bookings"]) == args.bookings and len(document["messages"]) == messages

    results = {
        "when": timezone.now().isoformat(),
        "bookings": args.bookings,
        "messages": messages,
        "requests": args.requests,
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "bytes": size,
        "queries": len(queries),
        "goal_ms": 1000,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "export.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print("\n| bookings | messages | p50 | p95 | max | answer | queries | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {args.bookings} | {messages} | {results['p50_ms']} ms | {results['p95_ms']} ms | {results['max_ms']} ms "
        f"| {size / 1024:.0f} KiB | {len(queries)} | ≤ 1,000 ms |"
    )


if __name__ == "__main__":
    main()
