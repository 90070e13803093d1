"""Capacity inputs for docs/scaling.md (issue #23): CPU per request and per message,
bytes per row. A short in-process measurement, not a load test (about a minute).

(a) CPU per API request, in this process (DRF through Django's test client: no
gunicorn, no wrk) and in its PostgreSQL backend (/proc/<pid>/stat): booking create,
availability, a customer's list, a delivery report (Twilio status callback, signed).
(b) CPU per message delivered by a real Celery prefork worker (concurrency 2)
against an instant fake Twilio, split into the worker's processes, their
PostgreSQL backends and a private Redis server (also: Redis commands per message,
with the provider pacing on: PROVIDER_RATE_LIMITS high enough never to wait).
(c) Bytes per Booking, Notification and DeliveryAttempt row, heap and TOAST and
indexes, from rows the API and the worker wrote, copied in SQL to 20x so that
the indexes are past their first pages.

CPU times are process CPU (user + system), so other work on the machine slows
them little; the private Redis keeps its counters ours. Run:
  BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/salon_scaling .venv/bin/python bench/capacity.py
Writes bench/results/capacity.json and prints it.
"""

import argparse
import json
import os
import subprocess
import time
import uuid
from urllib.parse import urlencode

import redis
from common import BENCH_DATABASE_URL, RESULTS, fresh_django

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (Linux /proc), seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_counters(client: redis.Redis) -> tuple[float, int]:
    cpu = client.info("cpu")
    calls = sum(v["calls"] for k, v in client.info("commandstats").items() if k.startswith("cmdstat_"))
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"], calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=1500)
    parser.add_argument("--reads", type=int, default=600)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()

    port = free_port()
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{port}/0"
    queue = f"capacity-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        CELERY_BROKER_URL=broker,
        REDIS_URL=f"redis://127.0.0.1:{port}/1",
        CELERY_QUEUE=queue,
        NOTIFICATION_PROVIDER="twilio",
        PROVIDER_RATE_LIMITS='{"twilio": 1000000}',
    )
    rds = redis.Redis.from_url(broker)
    for _ in range(100):
        try:
            rds.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        run(args, broker, queue, rds)
    finally:
        redis_server.terminate()
        redis_server.wait()


def run(args, broker: str, queue: str, rds: redis.Redis) -> None:
    fresh_django()
    import psutil
    from api import Slots, seed
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from twilio.request_validator import RequestValidator

    from apps.accounts.models import User
    from apps.bookings.models import Booking
    from apps.common.tests import fake_twilio
    from apps.common.tests.factories import RIYADH
    from apps.common.tests.live import stack_env, start_worker, wait_for
    from apps.notifications.models import DeliveryAttempt, Notification, NotificationStatus

    results: dict = {"when": timezone.now().isoformat()}
    data = seed()
    # Half the customers read Arabic and prefer WhatsApp (templates, variables, reply buttons).
    customers = list(User.objects.filter(name__startswith="Customer").order_by("id"))
    for i, customer in enumerate(customers):
        if i % 2:
            customer.preferred_language, customer.preferred_channel = "ar", "whatsapp"
            customer.save(update_fields=["preferred_language", "preferred_channel"])
    User.objects.filter(role="staff").update(preferred_language="ar")
    slots = Slots(data)
    fake = fake_twilio.FakeTwilio()
    fake.__enter__()
    for key, value in fake.env().items():
        setattr(settings, key, value)
    settings.PROVIDER_RATE_LIMITS = {"twilio": 1_000_000}

    client = Client(HTTP_HOST="127.0.0.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def measured(name: str, count: int, request) -> None:
        for i in range(20):  # warm-up: imports, prepared statements
            request(i)
        before = time.process_time(), cpu_seconds(backend), *redis_counters(rds)
        began = time.perf_counter()
        for i in range(count):
            request(i)
        wall = time.perf_counter() - began
        after = time.process_time(), cpu_seconds(backend), *redis_counters(rds)
        results.setdefault("api", {})[name] = {
            "requests": count,
            "web_cpu_ms": round((after[0] - before[0]) * 1000 / count, 2),
            "db_cpu_ms": round((after[1] - before[1]) * 1000 / count, 2),
            "redis_cpu_ms": round((after[2] - before[2]) * 1000 / count, 3),
            "redis_commands": round((after[3] - before[3]) / count, 2),
            "wall_ms": round(wall * 1000 / count, 2),
        }
        print(name, results["api"][name], flush=True)

    bodies = slots.take(args.creates + 20)

    def create(i):
        token, body = bodies[i].split("\t", 1)
        answer = client.post(
            "/api/bookings/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert answer.status_code == 201, answer.content

    creates = iter(range(args.creates + 20))
    measured("booking_create", args.creates, lambda _i: create(next(creates)))
    days = [(slots.first + timezone.timedelta(days=d)).astimezone(RIYADH).date().isoformat() for d in range(4)]

    def availability(i):
        path = f"/api/availability/?salon={data['salon']}&service={data['service']}&date={days[i % 4]}"
        assert client.get(path).status_code == 200

    measured("availability", args.reads, availability)

    def booking_list(i):
        token = data["tokens"][i % len(data["tokens"])]
        assert client.get("/api/bookings/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    measured("booking_list", args.reads, booking_list)
    results["bookings_per_customer"] = round((args.creates + 20) / len(data["tokens"]))

    # (b) the worker: everything the creates queued, delivered by a real worker.
    pending = Notification.objects.filter(status=NotificationStatus.PENDING).count()
    rds.rename(queue, queue + "-hold")  # held until the worker is up and measured at rest
    env = stack_env(
        database=BENCH_DATABASE_URL,
        broker=broker,
        queue=queue,
        LOG_LEVEL="WARNING",
        REDIS_URL=os.environ["REDIS_URL"],
        PROVIDER_RATE_LIMITS='{"twilio": 1000000}',
        **fake.env(),
    )
    worker = start_worker(env, concurrency=2)
    try:
        time.sleep(3)
        main_process = psutil.Process(worker.popen.pid)

        def worker_cpu() -> float:
            return sum(sum(p.cpu_times()[:2]) for p in [main_process, *main_process.children(recursive=True)])

        def backends_cpu() -> float:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                return sum(cpu_seconds(pid) for (pid,) in cursor.fetchall())

        before = worker_cpu(), backends_cpu(), *redis_counters(rds)
        began = time.perf_counter()
        rds.rename(queue + "-hold", queue)
        wait_for(
            lambda: not Notification.objects.filter(status=NotificationStatus.PENDING).exists(),
            timeout=600,
            interval=0.2,
            what="all delivered",
        )
        wall = time.perf_counter() - began
        after = worker_cpu(), backends_cpu(), *redis_counters(rds)
    finally:
        worker.stop()
    sent = Notification.objects.filter(status=NotificationStatus.SENT).count()
    results["worker"] = {
        "messages": pending,
        "sent": sent,
        "concurrency": 2,
        "worker_cpu_ms": round((after[0] - before[0]) * 1000 / sent, 2),
        # backends that lived through the run; a backend opened during it counts whole
        "db_cpu_ms": round((after[1] - before[1]) * 1000 / sent, 2),
        "redis_cpu_ms": round((after[2] - before[2]) * 1000 / sent, 3),
        "redis_commands": round((after[3] - before[3]) / sent, 2),
        "msg_per_s_wall": round(sent / wall, 1),
    }
    print("worker", results["worker"], flush=True)

    # A delivery report per sent message (Twilio status callback, signed as Twilio signs).
    url = "http://127.0.0.1/api/webhooks/twilio/status/"
    validator = RequestValidator(fake.auth_token)
    sids = list(
        Notification.objects.filter(status=NotificationStatus.SENT).values_list("provider_message_id", flat=True)
    )
    reports = iter(sids)

    def delivery_report(_i):
        sid = next(reports)
        params = {"AccountSid": fake.account_sid, "MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered"}
        answer = client.post(
            url.removeprefix("http://127.0.0.1"),
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=validator.compute_signature(url, params),
        )
        assert answer.status_code in (200, 204), answer.content

    measured("delivery_report", min(args.reads, len(sids) - 20), delivery_report)
    fake.__exit__(None, None, None)

    # (c) bytes per row: the rows above, then copied (same widths) to past the indexes' first pages.
    results["rows"] = row_sizes(args.copies)
    results["rows"]["counts"] = {
        "booking": Booking.objects.count(),
        "notification": Notification.objects.count(),
        "delivery_attempt": DeliveryAttempt.objects.count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "capacity.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


TABLES = {
    "booking": "bookings_booking",
    "notification": "notifications_notification",
    "delivery_attempt": "notifications_deliveryattempt",
}


def row_sizes(copies: int) -> dict:
    from django.db import connection

    def columns(table: str) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
                "ORDER BY ordinal_position",
                [table],
            )
            return [f'"{name}"' for (name,) in cursor.fetchall()]

    def sizes() -> dict:
        out = {}
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            for name, table in TABLES.items():
                cursor.execute(
                    f"SELECT count(*), pg_relation_size(%s), pg_table_size(%s), pg_indexes_size(%s) FROM {table}",
                    [table, table, table],
                )
                rows, heap, table_size, indexes = cursor.fetchone()
                out[name] = {"rows": rows, "heap": heap, "toast_etc": table_size - heap, "indexes": indexes}
        return out

    def copy(table: str, replace: dict[str, str], where: str = "") -> None:
        names = columns(table)
        select = [replace.get(name.strip('"'), f"t.{name}") for name in names]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} "
                f"FROM {table} t CROSS JOIN generate_series(1, %s) g {where} ORDER BY g, t.id",
                [copies],
            )

    first = sizes()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM bookings_booking")
        last_booking = cursor.fetchone()[0]
    # Bookings moved by whole years, so no staff member's times overlap (the exclusion constraint).
    # Keys that are distinct in life (times, provider ids) are made distinct in the copies too,
    # or PostgreSQL's b-tree deduplication would make their indexes look smaller than they are.
    shifted = {name: f"t.{name} + g * interval '365 days'" for name in ("start", "end", "busy_until")}
    copy("bookings_booking", {**shifted, "created_at": "t.created_at + g * interval '1 second'"})
    copy(
        "notifications_notification",
        {
            "event": "'booking_reminder'",
            "reminder_offset_minutes": "t.reminder_offset_minutes + g",
            "sequence": "g",
            "fallback_of_id": "NULL",
            "inbound_id": "NULL",
            "created_at": "t.created_at + g * interval '1 second'",
            "provider_message_id": "t.provider_message_id || '-' || g",
        },
        f"WHERE t.booking_id <= {last_booking}",
    )
    copy(
        "notifications_deliveryattempt",
        {"number": "t.number + g", "provider_message_id": "t.provider_message_id || '-' || g"},
    )
    second = sizes()
    per_row = {}
    for name in TABLES:
        a, b = first[name], second[name]
        added = b["rows"] - a["rows"]
        per_row[name] = {part: round((b[part] - a[part]) / added) for part in ("heap", "toast_etc", "indexes") if added}
        per_row[name]["total"] = sum(per_row[name].values())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(pg_column_size(message)), avg(pg_column_size(variables)), avg(pg_column_size(buttons)) "
            "FROM notifications_notification"
        )
        message, variables, buttons = cursor.fetchone()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
            "WHERE indrelid = 'notifications_notification'::regclass ORDER BY 2 DESC"
        )
        indexes = dict(cursor.fetchall())
    return {
        "after_api_and_worker": first,
        "after_copies": second,
        "bytes_per_row": per_row,
        "notification_columns_avg_bytes": {
            "message": round(message),
            "variables": round(variables),
            "buttons": round(buttons),
        },
        "notification_indexes_bytes": indexes,
    }


if __name__ == "__main__":
    main()
