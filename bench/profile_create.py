"""Where a booking create's time goes, in-process (issue #23): no HTTP server, no wrk.

Each request goes through Django's own WSGI handler, as gunicorn calls it (request
started and finished signals, so the connection's health check runs; every
middleware; DRF; the service; the answer), against PostgreSQL, with a real broker
(Redis, a queue of its own). The publish normally runs on the relay thread after
commit; here the relay runs it inline so that its cost is counted (on two cores
under load it competes for the same CPU, and in a sync gunicorn worker for the
same interpreter lock).

Modes:
- ``plain``: ms per create, nothing instrumented (the before/after number).
- ``phases``: the time split by phase, each instant counted once (in the innermost
  phase running), SQL timed at the driver call and named by statement.
- ``cprofile`` / ``pyinstrument``: a profile of the same requests, written to
  bench/results/profile_create.<target>.{pstats,txt,html} (not committed).

``--target floor`` runs the same against the floor (bench/floor: a bare DRF
create, no authentication, no middleware), in a process of its own.

``--ab VARIANT`` alternates the code (A) with a variant (B) in blocks in one
process, on the create and on a customer's list (the list is the control when the
variant touches only the create): ``user-read-orm`` (simplejwt's ORM read of the
token's user), ``lock-first`` (the lock query with ``.first()`` as before),
``lock-by-hand`` and ``outbox-by-hand`` (experiments: statements written once,
patched in here only, for the bookings app's SQL module to decide on).

Run: ``.venv/bin/python bench/profile_create.py`` (salon then floor, plain and phases,
2,000 creates each after 200 of warm-up). Database: BENCH_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/salon_create (recreated; the floor's gets ``_floor``).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salon_create")
HERE = Path(__file__).resolve().parent
FLOOR_DIR = HERE / "floor"


# --- the request, as gunicorn hands it to Django -----------------------------------------
def wsgi_caller(handler):
    def call(path: str, body: bytes | None, token: str | None = None) -> tuple[str, bytes]:
        method = "GET" if body is None else "POST"
        body = body or b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        status = []
        result = handler(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            answer = b"".join(result)
        finally:
            result.close()  # request_finished: close_old_connections, as gunicorn does
        return status[0], answer

    return call


# --- phases: each instant counted in the innermost phase running ----------------------------
class Phases:
    """Wall time and this thread's CPU time per phase. Wall minus CPU is waiting:
    for PostgreSQL, Redis, or (on a busy machine) for a core."""

    def __init__(self):
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []
        self.mark = (0.0, 0.0)

    def _account(self) -> None:
        now = (time.perf_counter(), time.thread_time())
        if self.stack:
            self.wall[self.stack[-1]] += now[0] - self.mark[0]
            self.cpu[self.stack[-1]] += now[1] - self.mark[1]
        self.mark = now

    def enter(self, name: str) -> None:
        self._account()
        self.stack.append(name)

    def leave(self) -> None:
        self._account()
        self.stack.pop()

    def wrap(self, owner, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)
        phases = self

        def timed(*args, **kwargs):
            phases.enter(name)
            try:
                return original(*args, **kwargs)
            finally:
                phases.leave()

        timed.__wrapped__ = original
        setattr(owner, attribute, timed)

    def sql_wrapper(self, classify):
        def wrapper(execute, sql, params, many, context):
            self.enter(f"SQL: {classify(sql)}")
            try:
                return execute(sql, params, many, context)
            finally:
                self.leave()

        return wrapper


def classify_salon_sql(sql: str) -> str:
    text = " ".join(sql.split()).upper()
    if text.startswith("SELECT 1"):
        return "health check (SELECT 1)"
    if "UNION ALL" in text:
        return "staff day (UNION)"
    if "FOR UPDATE" in text:
        return "BEGIN + lock: performer, service, salon, settings"
    if 'FROM "ACCOUNTS_USER" WHERE' in text:
        return "user read (token)"
    if text.startswith('INSERT INTO "BOOKINGS_BOOKING"'):
        return "INSERT booking"
    if text.startswith('INSERT INTO "NOTIFICATIONS_NOTIFICATION"'):
        return "INSERT 2 notifications"
    return "other: " + text[:60]


def classify_floor_sql(sql: str) -> str:
    return "INSERT item (autocommit)" if sql.lstrip().upper().startswith("INSERT") else "other: " + sql[:60]


def instrument_salon(phases: Phases) -> None:
    from django.db import connections
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.views import APIView

    from apps.accounts.authentication import UserReadingJWTAuthentication
    from apps.bookings import services, views
    from apps.bookings.models import Booking
    from apps.bookings.serializers import BookingCreateSerializer, BookingSerializer
    from apps.common.metrics import MiddlewareTimer
    from apps.notifications.delivery import publishing

    wrapper_class = type(connections["default"])
    phases.wrap(wrapper_class, "is_usable", "health check (Python)")
    phases.wrap(UserReadingJWTAuthentication, "get_validated_token", "JWT decode and verify")
    phases.wrap(UserReadingJWTAuthentication, "get_user", "user read (Python)")
    phases.wrap(Request, "_parse", "body parse (JSON)")
    phases.wrap(BookingCreateSerializer, "is_valid", "serializer validation")
    phases.wrap(APIView, "check_permissions", "permissions")
    phases.wrap(APIView, "check_throttles", "throttles")
    phases.wrap(views, "booking_create", "service: lock query built, rules, rows (Python)")
    phases.wrap(services, "load_staff_days", "staff day (Python)")
    phases.wrap(services, "slot_problem", "slot rule")
    phases.wrap(services, "booking_reminders_replan", "reminder plan")
    phases.wrap(Booking, "save", "booking INSERT (Python)")
    phases.wrap(services, "notify_booking_lifecycle", "notification rows (Python)")
    phases.wrap(wrapper_class, "commit", "COMMIT")
    phases.wrap(publishing, "publish_many_now_rollback_unsafe", "publish (apply_async)")
    phases.wrap(BookingSerializer, "to_representation", "answer (dict)")
    phases.wrap(JSONRenderer, "render", "answer (JSON)")
    phases.wrap(MiddlewareTimer, "__call__", "middleware, DRF, Django (the rest)")


def instrument_floor(phases: Phases) -> None:
    from floorapp.models import Item
    from floorapp.views import ItemSerializer
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.serializers import Serializer

    phases.wrap(Request, "_parse", "body parse (JSON)")
    phases.wrap(Serializer, "is_valid", "serializer validation")
    phases.wrap(Item, "save", "INSERT (Python)")
    phases.wrap(ItemSerializer, "to_representation", "answer (dict)")
    phases.wrap(JSONRenderer, "render", "answer (JSON)")


def inline_relay() -> None:
    """The relay publishes on the request's thread (see the module's docstring)."""
    from apps.notifications.delivery import publishing

    publishing.RELAY.submit = lambda function, *args: function(*args)


# --- the two targets --------------------------------------------------------------------------
def salon_requests(count: int):
    """Set the salon up (a fresh database, the benchmark's seed) and return a caller and
    ``count`` distinct create bodies with their tokens."""
    os.environ.update(
        {
            "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
            "CELERY_QUEUE": f"bench-profile-{uuid.uuid4().hex[:8]}",
            "NOTIFICATION_PROVIDER": "console",
            "BOOKING_HORIZON_DAYS": "730",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(HERE))
    from api import Slots, seed
    from common import fresh_django

    fresh_django()
    data = seed()  # bench/api.py's history() is left out: only other salons' rows
    from django.core.handlers.wsgi import WSGIHandler

    lines = Slots(data).take(count)
    requests = [(line.split("\t", 1)[1].encode(), line.split("\t", 1)[0]) for line in lines]
    return wsgi_caller(WSGIHandler()), "/api/bookings/", requests


def floor_requests(count: int):
    sys.path.insert(0, str(FLOOR_DIR))
    sys.path.insert(0, str(HERE))
    from common import BENCH_DATABASE_URL, recreate_database

    url = BENCH_DATABASE_URL + "_floor"
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "floor_settings"
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    requests = [(json.dumps({"name": f"item {i}"}).encode(), None) for i in range(count)]
    return wsgi_caller(WSGIHandler()), "/items/", requests


def run(target: str, mode: str, count: int, warm_up: int) -> dict:
    call, path, requests = (salon_requests if target == "salon" else floor_requests)(count + warm_up)
    if target == "salon":
        inline_relay()
    for body, token in requests[:warm_up]:
        status, answer = call(path, body, token)
        assert status.startswith("201"), (status, answer[:300])
    measured = requests[warm_up:]
    result = {"target": target, "mode": mode, "requests": len(measured)}
    phases = Phases()
    if mode == "phases":
        from django.db import connection

        (instrument_salon if target == "salon" else instrument_floor)(phases)
        phases.wrap(sys.modules[__name__], "_one", "WSGI handler outside the middleware (signals, request, response)")
        wrapper = phases.sql_wrapper(classify_salon_sql if target == "salon" else classify_floor_sql)
        connection.execute_wrappers.append(wrapper)  # for every connection this thread opens
    profiler = None
    if mode == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
    elif mode == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
    times = []
    cpu_started = time.process_time()
    if profiler:
        profiler.enable() if mode == "cprofile" else profiler.start()
    started = time.perf_counter()
    for body, token in measured:
        before = time.perf_counter()
        status, answer = sys.modules[__name__]._one(call, path, body, token)
        times.append(time.perf_counter() - before)
        assert status.startswith("201"), (status, answer[:300])
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler:
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        if mode == "cprofile":
            import pstats

            profiler.disable()
            profiler.dump_stats(out / f"profile_create.{target}.pstats")
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
            stats.print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
            (out / f"profile_create.{target}.txt").write_text(text.getvalue())
        else:
            profiler.stop()
            (out / f"profile_create.{target}.html").write_text(profiler.output_html())
            (out / f"profile_create.{target}.pyinstrument.txt").write_text(profiler.output_text(unicode=True))
    result["mean_ms"] = round(elapsed / len(measured) * 1000, 3)
    result["p50_ms"] = round(statistics.median(times) * 1000, 3)
    result["cpu_ms"] = round(cpu / len(measured) * 1000, 3)
    if mode == "phases":
        result["phases_ms"] = {
            name: [round(wall / len(measured) * 1000, 3), round(phases.cpu[name] / len(measured) * 1000, 3)]
            for name, wall in sorted(phases.wall.items(), key=lambda item: -item[1])
        }
    if target == "salon":
        cleanup_queue()
    return result


def _one(call, path, body, token):
    return call(path, body, token)


# --- A/B: two ways of doing one thing, alternated in blocks in one process -------------------
def user_read_by_orm():
    """simplejwt's own read: ``User.objects.get(pk=...)`` (None where it raises)."""
    from apps.accounts import authentication
    from apps.accounts.models import User

    def by_orm(user_id):
        try:
            return User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None

    original = authentication.user_by_id
    authentication.user_by_id = by_orm
    return lambda: setattr(authentication, "user_by_id", original)


def lock_by_first():
    """The lock query as it was: ``.first()`` (an ORDER BY compiled) instead of ``[:1]``."""
    from django.db.models.query import QuerySet

    from apps.bookings.services import Performer

    sliced = QuerySet.__getitem__

    def getitem(queryset, k):
        if queryset.model is Performer and k == slice(None, 1, None) and not queryset.ordered:
            return sliced(queryset.order_by("pk"), k)  # what .first() does
        return sliced(queryset, k)

    QuerySet.__getitem__ = getitem
    return lambda: setattr(QuerySet, "__getitem__", sliced)


class _LockByHand:
    """An experiment for the bookings app's SQL module, not a proposal of code: the
    create's lock query sent as a statement written once (the ORM's own SQL,
    captured once), its five instances built by ``Model.from_db``. Only what
    ``booking_create`` calls is here (select_related, select_for_update, filter, [:1])."""

    def __init__(self, performer, statement, params, service_id, staff_id):
        from apps.accounts.models import User
        from apps.notifications.models import SalonNotificationSettings
        from apps.salons.models import Salon, Service

        self.objects = self
        self.statement = statement
        self.template = list(params)
        # Q sorts a filter's keywords: service_id comes before user_id (the only integers).
        self.service_at, self.staff_at = [i for i, value in enumerate(params) if type(value) is int]
        assert (params[self.service_at], params[self.staff_at]) == (service_id, staff_id)
        spans, start = [], 0
        for model in (performer, Service, Salon, SalonNotificationSettings, User):
            names = [field.attname for field in model._meta.concrete_fields]
            spans.append((model, names, start, start + len(names)))
            start += len(names)
        self.spans = spans

    def select_related(self, *args):
        return self

    def select_for_update(self, **kwargs):
        return self

    def filter(self, **kwargs):
        self.kwargs = kwargs
        return self

    def __getitem__(self, k):
        from django.db import connection

        params = list(self.template)
        params[self.service_at] = self.kwargs["service_id"]
        params[self.staff_at] = self.kwargs["user_id"]
        with connection.cursor() as cursor:
            cursor.execute(self.statement, params)
            row = cursor.fetchone()
        if row is None:
            return []
        link, service, salon, salon_settings, user = (
            model.from_db("default", names, row[a:b]) for model, names, a, b in self.spans
        )
        if salon_settings.pk is not None:
            salon.notification_settings = salon_settings
        service.salon = salon
        link.service, link.user = service, user
        return [link]


def lock_by_hand():
    from django.db import connection, transaction

    from apps.bookings import services
    from apps.salons.models import Service

    performer = services.Performer
    if not hasattr(lock_by_hand, "fake"):
        captured = []
        link = performer.objects.select_related("user").first()
        service, staff = link.service_id, link.user_id

        def capture(execute, sql, params, many, context):
            captured.append((sql, list(params)))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture), transaction.atomic():
            expected = next(iter(_orm_lock(performer, service, staff)))
        statement, params = captured[-1]
        fake = _LockByHand(performer, statement, params, service, staff)
        with transaction.atomic():
            got = fake.filter(service_id=service, user_id=staff)[:1][0]
        for a, b in [(got, expected), (got.service, expected.service), (got.service.salon, expected.service.salon),
                     (got.user, expected.user)]:  # fmt: skip
            assert {f.attname: getattr(a, f.attname) for f in type(a)._meta.concrete_fields} == {
                f.attname: getattr(b, f.attname) for f in type(b)._meta.concrete_fields
            }
        assert isinstance(got.service, Service)
        lock_by_hand.fake = fake
    services.Performer = lock_by_hand.fake
    return lambda: setattr(services, "Performer", performer)


def _orm_lock(performer, service_id, staff_id):
    from django.db.models import F

    from apps.accounts.models import Role

    return (
        performer.objects.select_related("service__salon__notification_settings", "user")
        .select_for_update(of=("user",))
        .filter(
            service_id=service_id,
            service__is_active=True,
            user_id=staff_id,
            user__is_active=True,
            user__role__in=[Role.STAFF, Role.MANAGER],
            user__salon_id=F("service__salon_id"),
        )[:1]
    )


def outbox_by_hand():
    """An experiment: the booking's notification rows written by one ``INSERT ...
    VALUES (...), (...) RETURNING id`` built once per row count, instead of
    ``bulk_create`` (Django 5.2 sends an UNNEST of one array per column)."""
    from django.db import connection

    from apps.notifications.models import Notification

    manager = Notification.objects
    fields = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = quote(Notification._meta.db_table)

    def bulk_create(rows):
        values = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in rows for field in fields]
        statement = f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(rows))} RETURNING id"
        with connection.cursor() as cursor:
            cursor.execute(statement, values)
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding, row._state.db = False, "default"
        return rows

    manager.bulk_create = bulk_create
    return lambda: delattr(manager, "bulk_create")


VARIANTS = {
    "user-read-orm": user_read_by_orm,
    "lock-first": lock_by_first,
    "lock-by-hand": lock_by_hand,
    "outbox-by-hand": outbox_by_hand,
}


def run_ab(variant: str, count: int, warm_up: int, blocks: int = 10) -> dict:
    """The current code (A) and ``variant`` (B) alternated in ``blocks`` blocks each, on
    the create and on a customer's list (GET /api/bookings/, the same tokens): the
    median of the blocks' CPU and wall ms per request, so that a machine whose speed
    drifts moves both alike."""
    call, path, requests = salon_requests(count + warm_up)
    inline_relay()
    for body, token in requests[:warm_up]:
        assert call(path, body, token)[0].startswith("201")
    creates = iter(requests[warm_up:])
    tokens = [token for _body, token in requests]
    per_block = count // (2 * blocks)
    samples = {(kind, side): {"wall": [], "cpu": []} for kind in ("create", "list") for side in "AB"}

    def block(kind: str, side: str) -> None:
        undo = VARIANTS[variant]() if side == "B" else None
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(per_block):
                if kind == "create":
                    body, token = next(creates)
                    status, answer = call(path, body, token)
                    assert status.startswith("201"), (status, answer[:300])
                else:
                    status, answer = call(path, None, tokens[i % len(tokens)])
                    assert status.startswith("200"), (status, answer[:300])
            samples[(kind, side)]["wall"].append((time.perf_counter() - wall) / per_block * 1000)
            samples[(kind, side)]["cpu"].append((time.process_time() - cpu) / per_block * 1000)
        finally:
            if undo:
                undo()

    for i in range(blocks):
        for kind in ("create", "list"):
            for side in "AB" if i % 2 == 0 else "BA":
                block(kind, side)
    cleanup_queue()
    result = {"variant": variant, "blocks": blocks, "requests_per_block": per_block}
    for (kind, side), values in samples.items():
        result[f"{kind} {side}"] = {key: round(statistics.median(v), 3) for key, v in values.items()}
    return result


def cleanup_queue() -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def print_table(result: dict) -> None:
    print(f"\n{result['target']} ({result['mode']}, {result['requests']} creates): mean {result['mean_ms']:.2f} ms, "
          f"p50 {result['p50_ms']:.2f} ms, CPU {result['cpu_ms']:.2f} ms per create")  # fmt: skip
    if "phases_ms" in result:
        print("  wall ms   CPU ms  share of wall  phase")
    for name, (wall, cpu) in result.get("phases_ms", {}).items():
        print(f"  {wall:7.3f}  {cpu:7.3f}  {wall / result['mean_ms']:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["salon", "floor", "both"], default="both")
    parser.add_argument("--mode", choices=["plain", "phases", "cprofile", "pyinstrument", "table"], default="table",
                        help="table: plain then phases, each in its own process")  # fmt: skip
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warm-up", type=int, default=200)
    parser.add_argument("--ab", choices=sorted(VARIANTS), help="compare the code with this variant (salon only)")
    args = parser.parse_args()
    if args.ab:
        print(json.dumps(run_ab(args.ab, args.requests, args.warm_up), indent=1))
        return
    targets = ["salon", "floor"] if args.target == "both" else [args.target]
    modes = ["plain", "phases"] if args.mode == "table" else [args.mode]
    if len(targets) * len(modes) > 1:  # one process per run: each target needs its own settings
        results = []
        for target in targets:
            for mode in modes:
                done = subprocess.run(
                    [sys.executable, __file__, "--target", target, "--mode", mode, "--requests", str(args.requests),
                     "--warm-up", str(args.warm_up)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        for result in results:
            print_table(result)
        return
    result = run(targets[0], modes[0], args.requests, args.warm_up)
    print_table(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
