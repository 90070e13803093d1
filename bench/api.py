"""API benchmark (issue #13): booking create, availability and the booking list,
each beside the floor, measured in the same run with the same stack.

The floor (bench/floor/) is a bare DRF ModelViewSet creating one row, without
authentication or middleware, served by the same gunicorn (2 sync workers, the
same config file) from the same PostgreSQL. Load comes from wrk on the same
machine. Salon: 10 staff members (hours all day, so any future slot is free
unless taken), 20 customers with their own tokens, every create a distinct free
slot; availability for one day of the 10-staff salon; a customer's list.
Measured with 1,000 bookings in the database, then again with 1,000,000 (50
salons, three years, two notifications each). Create, availability and the list
at 8 connections also run through PgBouncer (Debian's, transaction pooling, a
second gunicorn with DATABASE_TRANSACTION_POOLER=1), beside the direct runs.

Writes bench/results/api.json, docs/performance-api.png and the table between
the `bench:api` markers of docs/performance.md.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from common import (
    BENCH_DATABASE_URL,
    BROKER,
    RESULTS,
    ROOT,
    fresh_django,
    recreate_database,
)

FLOOR_DIR = ROOT / "bench" / "floor"
FLOOR_DATABASE_URL = BENCH_DATABASE_URL + "_floor"
WRK_DIR = ROOT / "bench" / "wrk"
STAFF, CUSTOMERS = 10, 20


# --- processes ------------------------------------------------------------------------------
def start_gunicorn(name: str, app: str, chdir: Path, env: dict, workers: int = 2):
    from apps.common.tests.live import Process, free_port, wait_for

    port = free_port()
    process = Process(
        name,
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "backend" / "gunicorn.conf.py"), app,
         "--chdir", str(chdir), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
        env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def answers():
        import httpx

        if not process.alive():
            raise RuntimeError(f"{name} exited:\n{process.log()}")
        try:
            return httpx.get(f"{base}/", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    wait_for(answers, timeout=60, what=name)
    return process, base


def wrk(url: str, *, script: str, connections: int, duration: int, args: tuple = ()) -> dict:
    threads = min(connections, 2)
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url, "--",
         str(threads), *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    if done.stderr.strip():
        print(done.stderr.strip()[:2000], flush=True)
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)$", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": round(float(p50.group(1)) * units[p50.group(2)], 2),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(0) if socket_errors else "",
    }


# --- data --------------------------------------------------------------------------------------
def seed() -> dict:
    from datetime import time as clock
    from decimal import Decimal

    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.models import Role, User
    from apps.salons.models import Salon, Service, WorkingHours

    salon = Salon.objects.create(name="Bench Salon", name_ar="صالون الاختبار")
    haircut = Service.objects.create(
        salon=salon,
        name="Haircut",
        name_ar="قص",
        duration_minutes=30,
        price=Decimal(80),
    )
    staff = [
        User.objects.create(
            phone=f"+9665010000{i:02d}",
            name=f"Stylist {i}",
            role=Role.STAFF,
            salon=salon,
        )
        for i in range(STAFF)
    ]
    haircut.staff_members.set(staff)
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=member, weekday=day, start_time=clock(0, 0), end_time=clock(23, 59))
        for member in staff
        for day in range(7)
    )
    customers = [
        User.objects.create(phone=f"+9665020000{i:02d}", name=f"Customer {i}", preferred_language="en")
        for i in range(CUSTOMERS)
    ]
    tokens = []
    for customer in customers:
        # Valid for the whole run (the API's own lifetime is 15 minutes; a run is longer).
        token = AccessToken.for_user(customer)
        token.set_exp(lifetime=timedelta(hours=12))
        tokens.append(str(token))
    return {
        "salon": salon.pk,
        "service": haircut.pk,
        "staff": [s.pk for s in staff],
        "tokens": tokens,
    }


class Slots:
    """Distinct free half-hour slots from two days ahead on, for every staff member."""

    def __init__(self, data: dict):
        from django.utils import timezone

        from apps.common.tests.factories import RIYADH

        today = timezone.now().astimezone(RIYADH).date()
        self.first = datetime(today.year, today.month, today.day, tzinfo=RIYADH) + timedelta(days=2)
        self.data = data
        self.cursor = 0

    PER_DAY = 46  # 00:00 to 22:30: a 30-minute booking ends by 23:00, inside 00:00-23:59

    def take(self, count: int) -> list[str]:
        lines = []
        staff = self.data["staff"]
        for index in range(self.cursor, self.cursor + count):
            member = staff[index % len(staff)]
            day, slot = divmod(index // len(staff), self.PER_DAY)
            start = self.first + timedelta(days=day, minutes=30 * slot)
            body = json.dumps(
                {
                    "service": self.data["service"],
                    "staff": member,
                    "start": start.isoformat(),
                }
            )
            token = self.data["tokens"][index % len(self.data["tokens"])]
            lines.append(f"{token}\t{body}")
        self.cursor += count
        return lines


def history(total: int, data: dict) -> None:
    """Bookings up to ``total`` (and two notifications each) over 50 salons and three
    years, written with SQL: staff members' bookings never overlap (the exclusion
    constraint holds), most in the past."""
    from django.db import connection

    from apps.accounts.models import Role, User
    from apps.salons.models import Salon, Service

    existing = connection.cursor()
    existing.execute("SELECT count(*) FROM bookings_booking")
    missing = total - existing.fetchone()[0]
    if missing <= 0:
        return
    salons = list(Salon.objects.filter(name__startswith="History"))
    if not salons:
        salons = Salon.objects.bulk_create(Salon(name=f"History {i}") for i in range(49))
        Service.objects.bulk_create(Service(salon=s, name="Haircut", duration_minutes=30, price=80) for s in salons)
        User.objects.bulk_create(
            User(phone=f"+96656{s.pk:03d}{k:04d}", name=f"H{k}", role=Role.STAFF, salon=s)
            for s in salons
            for k in range(10)
        )
        User.objects.bulk_create(User(phone=f"+9665700{i:05d}", name=f"Past customer {i}") for i in range(1000))
    with connection.cursor() as cursor:
        # staff k of the history has its j-th booking 13 hours after its (j-1)-th, from three years ago
        cursor.execute(
            """
            WITH staff AS (
                SELECT u.id AS staff_id, u.salon_id, row_number() OVER (ORDER BY u.id) - 1 AS k
                FROM accounts_user u JOIN salons_salon s ON s.id = u.salon_id
                WHERE s.name LIKE 'History%%' AND u.role = 'staff'
            ), services AS (SELECT salon_id, min(id) AS service_id FROM salons_service GROUP BY salon_id),
            customers AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS c FROM accounts_user WHERE name LIKE 'Past customer%%'
            ), numbers AS (SELECT g - 1 AS n FROM generate_series(1, %(missing)s) g),
            rows AS (
                SELECT n, (SELECT count(*) FROM staff) AS staff_count FROM numbers
            )
            INSERT INTO bookings_booking (salon_id, service_id, customer_id, staff_id, start, "end", busy_until,
                status, note, cancellation_reason, reschedule_count, reminders_from, created_at, updated_at)
            SELECT st.salon_id, sv.service_id, cu.id, st.staff_id,
                   now() - interval '1095 days' + (r.n / r.staff_count) * interval '13 hours',
                   now() - interval '1095 days' + (r.n / r.staff_count) * interval '13 hours' + interval '30 minutes',
                   now() - interval '1095 days' + (r.n / r.staff_count) * interval '13 hours' + interval '30 minutes',
                   CASE WHEN r.n %% 10 = 0 THEN 'cancelled' ELSE 'completed' END, '', '', 0, now(), now(), now()
            FROM rows r
            JOIN staff st ON st.k = r.n %% r.staff_count
            JOIN services sv ON sv.salon_id = st.salon_id
            JOIN customers cu ON cu.c = r.n %% 1000
            """,
            {"missing": missing},
        )
        cursor.execute(
            """
            INSERT INTO notifications_notification (booking_id, recipient_id, phone, event, channel, sequence,
                reminder_offset_minutes, status, provider, message, reason, provider_message_id, template,
                language, variables, buttons, delivery_status, attempts, created_at, updated_at, sent_at,
                reroute, message_class)
            SELECT b.id, who.id, '', 'booking_created', 'sms', 0, 0, 'sent', 'console', 'text', '', '', '',
                   'en', '[]', '[]', '', 1, b.created_at, b.created_at, b.created_at, '', 'service'
            FROM bookings_booking b
            JOIN LATERAL (SELECT b.customer_id AS id UNION ALL SELECT b.staff_id) who ON true
            WHERE b.salon_id IN (SELECT id FROM salons_salon WHERE name LIKE 'History%%')
              AND NOT EXISTS (SELECT 1 FROM notifications_notification n WHERE n.booking_id = b.id)
            """
        )
        cursor.execute("ANALYZE")


# --- runs ------------------------------------------------------------------------------------
def write_requests(lines: list[str]) -> str:
    WRK_DIR.mkdir(exist_ok=True)
    path = WRK_DIR / f"requests-{uuid.uuid4().hex[:8]}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def measure(
    salon_base: str,
    floor_base: str,
    data: dict,
    slots: Slots,
    *,
    duration: int,
    label: str,
    pooled_base: str | None = None,
) -> dict:
    """Each endpoint between two floor runs with the same connections: its ratio is
    to the mean of the floor just before and just after, so that the machine's
    speed drifting during the run (a shared VM's does, by 30% and more) moves both
    sides of a ratio alike. With ``pooled_base`` (the API behind PgBouncer) each
    endpoint at 8 connections runs there too, followed by a second direct run: its
    ratio is to the mean of the direct runs around it."""
    from django.utils import timezone

    from apps.common.tests.factories import RIYADH

    scripts = ROOT / "bench" / "lua"
    tomorrow = (timezone.now().astimezone(RIYADH) + timedelta(days=1)).date().isoformat()
    availability = f"/api/availability/?salon={data['salon']}&service={data['service']}&date={tomorrow}"
    tokens_file = write_requests([f"{t}\t" for t in data["tokens"]])
    enough = 400 * duration  # above any rate seen here

    def run(name, base, script, connections, args):
        result = wrk(
            base,
            script=str(scripts / script),
            connections=connections,
            duration=duration,
            args=args,
        )
        print(f"{label:>5} {name:<18} {result}", flush=True)
        if result["non_2xx"] or result["socket_errors"]:
            raise RuntimeError(f"{name}: not every answer was 2xx: {result}")
        return result

    for connections in (1, 8):  # warm-up
        wrk(
            floor_base,
            script=str(scripts / "floor.lua"),
            connections=connections,
            duration=2,
        )
    runs = {}
    for name, script, connections, args in [
        ("booking_create_1", "create.lua", 1, None),
        ("booking_create_8", "create.lua", 8, None),
        ("availability_8", "get.lua", 8, (availability, "")),
        ("booking_list_8", "get.lua", 8, ("/api/bookings/", tokens_file)),
    ]:
        warm_up = args or (write_requests(slots.take(400 * 2)),)  # the 2 s warm-up
        wrk(
            salon_base,
            script=str(scripts / script),
            connections=connections,
            duration=2,
            args=warm_up,
        )
        before = run(f"floor_create_{connections}", floor_base, "floor.lua", connections, ())
        ours = run(
            name,
            salon_base,
            script,
            connections,
            args or (write_requests(slots.take(enough)),),
        )
        after = run(f"floor_create_{connections}", floor_base, "floor.lua", connections, ())
        ours["floor"] = {key: round((before[key] + after[key]) / 2, 2) for key in ("rps", "p50_ms")}
        runs[name] = ours
        if pooled_base and connections == 8:
            warm_up = args or (write_requests(slots.take(400 * 2)),)  # slots of its own: a taken one is a 409
            wrk(pooled_base, script=str(scripts / script), connections=connections, duration=2, args=warm_up)
            fresh = [args or (write_requests(slots.take(enough)),) for _ in range(2)]
            pooled = run(f"{name}_pgbouncer", pooled_base, script, connections, fresh[0])
            again = run(name, salon_base, script, connections, fresh[1])
            pooled["direct"] = {key: round((ours[key] + again[key]) / 2, 2) for key in ("rps", "p50_ms")}
            runs[f"{name}_pgbouncer"] = pooled
    return runs


def queries_per_request(data: dict, slots: Slots) -> dict:
    """The queries each endpoint makes, counted in-process through the same views."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.common.tests.factories import RIYADH

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data['tokens'][0]}")
    _token, body = slots.take(1)[0].split("\t", 1)
    counts = {}
    with (
        transaction.atomic(),
        CaptureQueriesContext(connection) as queries,
    ):  # holds the after-commit publish
        assert client.post("/api/bookings/", body, content_type="application/json").status_code == 201
    counts["booking_create"] = len(queries)
    tomorrow = (timezone.now().astimezone(RIYADH) + timedelta(days=1)).date().isoformat()
    anonymous = Client(HTTP_HOST="127.0.0.1")  # as wrk asks for availability
    availability = f"/api/availability/?salon={data['salon']}&service={data['service']}&date={tomorrow}"
    for name, asking, path in [
        ("availability", anonymous, availability),
        ("booking_list", client, "/api/bookings/"),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert asking.get(path).status_code == 200
        counts[name] = len(queries)
    return counts


# --- report ---------------------------------------------------------------------------------------
def ratios(runs: dict) -> dict:
    """Each endpoint against the floor measured around it (see measure)."""
    create_1, create_8 = runs["booking_create_1"], runs["booking_create_8"]
    return {
        "create_p50_vs_floor": round(create_1["p50_ms"] / create_1["floor"]["p50_ms"], 2),
        "create_rps_floor_over_ours": round(create_8["floor"]["rps"] / create_8["rps"], 2),
        "availability_rps_share_of_floor": round(
            runs["availability_8"]["rps"] / runs["availability_8"]["floor"]["rps"], 2
        ),
        "list_rps_share_of_floor": round(runs["booking_list_8"]["rps"] / runs["booking_list_8"]["floor"]["rps"], 2),
    } | {
        f"{name}_share_of_direct": round(runs[name]["rps"] / runs[name]["direct"]["rps"], 2)
        for name in ("booking_create_8_pgbouncer", "availability_8_pgbouncer", "booking_list_8_pgbouncer")
        if name in runs
    }


def summary(rounds: list[dict]) -> dict:
    """Per goal: the median over the rounds and their range; per endpoint the
    median req/s and floor req/s (for the chart)."""
    every = [ratios(runs) for runs in rounds]
    goals = {
        key: {"median": statistics.median(r[key] for r in every), "low": min(r[key] for r in every),
              "high": max(r[key] for r in every)}
        for key in every[0]
    }  # fmt: skip
    rates = {
        name: {"rps": statistics.median(r[name]["rps"] for r in rounds),
               "floor_rps": statistics.median(r[name]["floor"]["rps"] for r in rounds),
               "share": statistics.median(r[name]["rps"] / r[name]["floor"]["rps"] for r in rounds)}
        for name in ("booking_create_8", "availability_8", "booking_list_8")
    }  # fmt: skip
    return {"goals": goals, "rates": rates, "rounds": len(rounds)}


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    small = results["summary_small"]["rates"]
    large = results.get("summary_large", {}).get("rates")
    names = ["booking_create_8", "availability_8", "booking_list_8"]
    labels = ["POST /api/bookings/", "GET /api/availability/", "GET /api/bookings/"]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    width = 0.27
    xs = list(range(len(names)))
    ax.bar(
        [x - width for x in xs],
        [small[n]["floor_rps"] for n in names],
        width,
        label="floor, measured around it",
    )
    ax.bar(xs, [small[n]["rps"] for n in names], width, label="Salon, 1,000 bookings")
    if large:
        ax.bar(
            [x + width for x in xs],
            [large[n]["rps"] for n in names],
            width,
            label="Salon, 1,000,000",
        )
    ax.set_xticks(xs, labels)
    ax.set_ylabel("requests per second (8 connections, median of rounds)")
    ax.set_title("Salon endpoints beside the floor (bare DRF create): gunicorn 2 sync workers, PostgreSQL")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def write_docs(results: dict) -> str:
    small = results["summary_small"]
    large = results.get("summary_large")

    def cell(summary_, key, fmt):
        goal = summary_["goals"][key]
        return f"{fmt(goal['median'])} ({fmt(goal['low'], bold=False)}–{fmt(goal['high'], bold=False)})"

    def times(r, bold=True):
        return f"**{r:.2f}×**" if bold else f"{r:.2f}"

    def share(r, bold=True):
        return f"**{r:.0%}**" if bold else f"{r:.0%}"

    rows = [
        ("`POST /api/bookings/` 1 connection: p50 ÷ the floor's p50", "create_p50_vs_floor", times, "≤ 3× (#23)"),
        ("`POST /api/bookings/` 8 connections: the floor's req/s ÷ ours", "create_rps_floor_over_ours", times,
         "≤ 3× (#23)"),
        ("`GET /api/availability/` (one day, 10 staff) 8 connections: share of the floor's req/s",
         "availability_rps_share_of_floor", share, "≥ 50%"),
        ("`GET /api/bookings/` (a customer's list, first page by cursor) 8 connections: share of the floor's req/s",
         "list_rps_share_of_floor", share, "≥ 60% (#23)"),
    ] + [
        (f"{endpoint} through PgBouncer (transaction pooling, nothing prepared) 8 connections: share of direct req/s",
         f"{name}_pgbouncer_share_of_direct", share, "≥ 90%")
        for endpoint, name in [("`POST /api/bookings/`", "booking_create_8"), ("`GET /api/availability/`",
                               "availability_8"), ("`GET /api/bookings/`", "booking_list_8")]
        if f"{name}_pgbouncer_share_of_direct" in small["goals"]
    ]  # fmt: skip
    lines = [
        f"| goal: ratio to the floor measured around each endpoint; median of {small['rounds']} rounds (range) "
        "| 1,000 bookings | 1,000,000 bookings | goal |",
        "| --- | --- | --- | --- |",
    ]
    for label, key, fmt, goal in rows:
        lines.append(f"| {label} | {cell(small, key, fmt)} | {cell(large, key, fmt) if large else '—'} | {goal} |")
    first = results["small"][0]
    lines += [
        "",
        "Median req/s at 8 connections, 1,000 bookings (floor around it): "
        + ", ".join(f"{name} {rate['rps']:.0f} ({rate['floor_rps']:.0f})" for name, rate in small["rates"].items())
        + f"; create p50 {first['booking_create_1']['p50_ms']} ms vs floor "
        f"{first['booking_create_1']['floor']['p50_ms']} ms in the first round.",
    ]
    pooled = [name for name in ("booking_create_8", "availability_8", "booking_list_8") if f"{name}_pgbouncer" in first]
    if pooled:
        lines += [
            "",
            "Through PgBouncer, 1,000 bookings, median req/s at 8 connections (direct around it): "
            + ", ".join(
                f"{name} {statistics.median(r[f'{name}_pgbouncer']['rps'] for r in results['small']):.0f} "
                f"({statistics.median(r[f'{name}_pgbouncer']['direct']['rps'] for r in results['small']):.0f})"
                for name in pooled
            )
            + ".",
        ]
    if large:
        lines.append("")
        lines.append(
            "Cost with 1,000,000 bookings ÷ cost with 1,000 (goal ≤ 1.2): median share of the floor with 1,000 ÷ "
            "with 1,000,000 (raw median req/s ratio in brackets):"
        )
        for name in ("booking_create_8", "availability_8", "booking_list_8"):
            a, b = small["rates"][name], large["rates"][name]
            lines.append(f"- {name}: {a['share'] / b['share']:.2f} ({a['rps'] / b['rps']:.2f})")
    lines.append("")
    lines.append(f"Queries per request (in-process, same views): {results['queries']}.")
    lines.append(
        f"Run: `make bench` on {results['when'][:10]}, {results['duration']} s per wrk run, "
        f"{small['rounds']} rounds per size; every round in `bench/results/api.json`."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument(
        "--large",
        type=int,
        default=1_000_000,
        help="bookings for the second measure (0: skip)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measures per data size (the table shows the median)",
    )
    parser.add_argument(
        "--no-pgbouncer", dest="pgbouncer", action="store_false", help="skip the runs through PgBouncer"
    )
    args = parser.parse_args()

    os.environ["CELERY_BROKER_URL"] = BROKER
    fresh_django()
    from django.utils import timezone

    from apps.common.tests.live import PgBouncer, stack_env

    recreate_database(FLOOR_DATABASE_URL)
    floor_env = {**os.environ, "DATABASE_URL": FLOOR_DATABASE_URL, "DJANGO_SETTINGS_MODULE": "floor_settings",
                 "PYTHONPATH": str(FLOOR_DIR)}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.core.management import call_command; "
         "call_command('migrate', verbosity=0)"],
        cwd=FLOOR_DIR, env=floor_env, check=True,
    )  # fmt: skip

    data = seed()
    history(1000, data)
    slots = Slots(data)
    queue = f"bench-api-{uuid.uuid4().hex[:8]}"
    # Every create takes a new slot, days ahead: rounds of both sizes reach past the default horizon.
    env = stack_env(database=BENCH_DATABASE_URL, broker=BROKER, queue=queue, NOTIFICATION_PROVIDER="console",
                    LOG_LEVEL="WARNING", BOOKING_HORIZON_DAYS="730")  # fmt: skip
    salon, salon_base = start_gunicorn("salon", "salon_api.wsgi", ROOT / "backend", env)
    floor, floor_base = start_gunicorn("floor", "floor_wsgi", FLOOR_DIR, floor_env)
    bouncer = pooled = pooled_base = None
    results = {"when": timezone.now().isoformat(), "duration": args.duration}
    try:
        if args.pgbouncer:  # the same API, every query through PgBouncer in transaction pooling mode
            bouncer = PgBouncer(BENCH_DATABASE_URL).start()
            pooled_env = env | {"DATABASE_URL": bouncer.url(urlsplit(BENCH_DATABASE_URL).path.lstrip("/")),
                                "DATABASE_TRANSACTION_POOLER": "1"}  # fmt: skip
            pooled, pooled_base = start_gunicorn("salon-pgbouncer", "salon_api.wsgi", ROOT / "backend", pooled_env)
        results["small"] = [
            measure(
                salon_base,
                floor_base,
                data,
                slots,
                duration=args.duration,
                label="small",
                pooled_base=pooled_base,
            )
            for _ in range(args.rounds)
        ]
        results["queries"] = queries_per_request(data, slots)
        if args.large:
            started = time.monotonic()
            history(args.large, data)
            results["history_seconds"] = round(time.monotonic() - started)
            results["large"] = [
                measure(
                    salon_base,
                    floor_base,
                    data,
                    slots,
                    duration=args.duration,
                    label="large",
                    pooled_base=pooled_base,
                )
                for _ in range(args.rounds)
            ]
    finally:
        salon.stop()
        floor.stop()
        if pooled:
            pooled.stop()
        if bouncer:
            bouncer.remove()
        import redis

        redis.Redis.from_url(BROKER).delete(queue)
        for leftover in WRK_DIR.glob("requests-*.jsonl"):
            leftover.unlink()

    results["summary_small"] = summary(results["small"])
    if args.large:
        results["summary_large"] = summary(results["large"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.json").write_text(json.dumps(results, indent=2))
    chart(results, ROOT / "docs" / "performance-api.png")
    table = write_docs(results)
    performance = ROOT / "docs" / "performance.md"
    text = performance.read_text()
    block = f"<!-- bench:api -->\n{table}\n<!-- /bench:api -->"
    text = re.sub(r"<!-- bench:api -->.*?<!-- /bench:api -->", lambda _: block, text, flags=re.S)
    performance.write_text(text)
    print(table)


if __name__ == "__main__":
    main()
