"""Does each written-out statement of bookings/sql.py pay for itself?

The issue's rule: a hand-written statement stays only if it buys at least 10% on its
endpoint. This runs each endpoint in-process (Django's test client, the whole
request: middleware, JWT, view, answer) against PostgreSQL, once with bookings/sql.py
and once with the same questions asked through the ORM (written below, and checked
to give the same answer bodies), alternating rounds so the machine's drift falls on
both. Data as bench/api.py's customers see it: one salon, four staff members, a
customer with 1,500 bookings.

    .venv/bin/python bench/sql_vs_orm.py [--rounds 5] [--requests 300]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salon_sqlbench")

from common import fresh_django


def orm_booking_page(*, visibility, filters, position, backwards, limit):
    from django.db.models import Q

    from apps.bookings.models import Booking
    from apps.bookings.sql import ANSWER_COLUMNS

    bookings = Booking.objects.all()
    for column in ("salon_id", "staff_id", "customer_id"):
        if getattr(visibility, column) is not None:
            bookings = bookings.filter(**{column: getattr(visibility, column)})
    if filters.statuses:
        bookings = bookings.filter(status__in=filters.statuses)
    if filters.staff_id is not None:
        bookings = bookings.filter(staff_id=filters.staff_id)
    if filters.start_from is not None:
        bookings = bookings.filter(start__gte=filters.start_from)
    if filters.start_to is not None:
        bookings = bookings.filter(start__lt=filters.start_to)
    if position is not None:
        if backwards:
            bookings = bookings.filter(Q(start__lt=position.start) | Q(start=position.start, id__lt=position.id))
        else:
            bookings = bookings.filter(Q(start__gt=position.start) | Q(start=position.start, id__gt=position.id))
    order = ("-start", "-id") if backwards else ("start", "id")
    rows = list(bookings.order_by(*order).values(*ANSWER_COLUMNS)[:limit])
    return rows[::-1] if backwards else rows


def orm_staff_day_rows(
    *, staff_ids, salon_id, local_date, inactive_statuses, bookings_from, first, window_end, exclude_booking_pk
):
    from django.db.models import DateTimeField, IntegerField, TimeField, Value

    from apps.bookings.models import Booking
    from apps.salons.models import SalonClosure, StaffTimeOff, WorkingHours

    def blank(field):
        return Value(None, output_field=field)

    # .order_by(): no model ordering inside the UNION (the written-out one has none).
    hours = (
        WorkingHours.objects.filter(staff_id__in=staff_ids, weekday=local_date.weekday())
        .order_by()
        .values_list(Value(0), "staff_id", "start_time", "end_time", blank(DateTimeField()), blank(DateTimeField()))
    )
    bookings = (
        Booking.objects.filter(staff_id__in=staff_ids, start__lt=window_end, start__gt=bookings_from)
        .filter(busy_until__gt=first)
        .order_by()
        .exclude(status__in=inactive_statuses)
        .exclude(pk=exclude_booking_pk or 0)
        .values_list(Value(1), "staff_id", blank(TimeField()), blank(TimeField()), "start", "busy_until")
    )
    time_off = StaffTimeOff.objects.filter(staff_id__in=staff_ids, start__lt=window_end, end__gt=first)
    time_off = time_off.order_by().values_list(
        Value(2), "staff_id", blank(TimeField()), blank(TimeField()), "start", "end"
    )
    closure = SalonClosure.objects.filter(salon_id=salon_id, start_date__lte=local_date, end_date__gte=local_date)
    closure = closure.order_by().values_list(
        Value(3), blank(IntegerField()), blank(TimeField()), blank(TimeField()),
        blank(DateTimeField()), blank(DateTimeField()),
    )  # fmt: skip
    return list(hours.union(bookings, time_off, closure, all=True))


def orm_service_with_performers(*, salon_id, service_id, staff_id):
    from django.db.models import F, FilteredRelation, Q

    from apps.accounts.models import Role
    from apps.salons.models import Service

    condition = Q(staff_members__is_active=True, staff_members__role__in=[Role.STAFF, Role.MANAGER]) & Q(
        staff_members__salon_id=F("salon_id")
    )
    if staff_id is not None:
        condition &= Q(staff_members__id=staff_id)
    return list(
        Service.objects.filter(pk=service_id, salon_id=salon_id, is_active=True)
        .annotate(performer=FilteredRelation("staff_members", condition=condition))
        .order_by("performer__name", "performer__id")
        .values_list("duration_minutes", "buffer_minutes", "salon__time_zone", "performer__id", "performer__name")
    )


ORM = {
    "booking_page": orm_booking_page,
    "staff_day_rows": orm_staff_day_rows,
    "service_with_performers": orm_service_with_performers,
}


def seed() -> dict:
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.bookings.models import Booking, BookingStatus
    from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory

    service = ServiceFactory(duration_minutes=30)
    staff = [StaffFactory(salon=service.salon, services=[service]) for _ in range(4)]
    customer = UserFactory()
    first = datetime(2024, 1, 1, 9, 0, tzinfo=RIYADH)
    rows = []
    for n in range(1500):
        start = first + timedelta(days=n // 24, minutes=30 * (n % 24))
        end = start + timedelta(minutes=30)
        rows.append(
            Booking(salon=service.salon, service=service, staff=staff[n % 4], customer=customer, start=start, end=end,
                    busy_until=end, status=BookingStatus.COMPLETED, reminders_from=start)
        )  # fmt: skip
    Booking.objects.bulk_create(rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    tomorrow = (timezone.now().astimezone(RIYADH) + timedelta(days=1)).date()
    return {
        "token": str(AccessToken.for_user(customer)),
        "service": service,
        "staff": staff,
        "availability": f"/api/availability/?salon={service.salon_id}&service={service.pk}&date={tomorrow}",
        "tomorrow": tomorrow,
    }


class Creates:
    """Distinct free slots for creates: each staff member, every 30 minutes, from a week on."""

    def __init__(self, data):
        from apps.common.tests.factories import RIYADH

        self.data, self.n = data, 0
        self.first = datetime.combine(data["tomorrow"] + timedelta(days=7), datetime.min.time(), tzinfo=RIYADH)

    def body(self):
        staff = self.data["staff"][self.n % 4]
        day, slot = divmod(self.n // 4, 24)
        self.n += 1
        start = self.first + timedelta(days=day, hours=9, minutes=30 * slot)
        return {"service": self.data["service"].pk, "staff": staff.pk, "start": start.isoformat()}


def rate(call, requests: int) -> float:
    began = time.perf_counter()
    for _ in range(requests):
        call()
    return requests / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    fresh_django()
    from django.test import Client

    from apps.bookings import sql

    data = seed()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data['token']}")
    anonymous = Client(HTTP_HOST="127.0.0.1")
    creates = Creates(data)
    second_page = client.get("/api/bookings/").json()["next"]

    def create():
        response = client.post("/api/bookings/", creates.body(), content_type="application/json")
        assert response.status_code == 201, response.content

    endpoints = {
        "list (first page)": (lambda: client.get("/api/bookings/"), "booking_page"),
        "list (second page)": (lambda: client.get(second_page), "booking_page"),
        "availability": (lambda: anonymous.get(data["availability"]), "service_with_performers + staff_day_rows"),
        "create": (create, "staff_day_rows"),
    }
    written = {name: getattr(sql, name) for name in ORM}
    # The same answers both ways (the tests prove it for every role and filter).
    bodies = {}
    for way in ("sql", "orm"):
        for name, function in (written if way == "sql" else ORM).items():
            setattr(sql, name, function)
        bodies[way] = [client.get("/api/bookings/").json(), anonymous.get(data["availability"]).json()]
    assert bodies["sql"] == bodies["orm"], "the ORM's answers differ"
    results = {name: {"sql": [], "orm": []} for name in endpoints}
    for round_ in range(args.rounds):
        for way in ("sql", "orm") if round_ % 2 == 0 else ("orm", "sql"):
            for name, function in (written if way == "sql" else ORM).items():
                setattr(sql, name, function)
            for name, (call, _) in endpoints.items():
                call()  # warm
                results[name][way].append(rate(call, args.requests))
    print(f"In-process req/s, median of {args.rounds} rounds of {args.requests} requests (PostgreSQL):")
    print("| endpoint | statement | bookings/sql.py | ORM | gain |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, (_, statement) in endpoints.items():
        ours, orm = statistics.median(results[name]["sql"]), statistics.median(results[name]["orm"])
        print(f"| {name} | `{statement}` | {ours:.0f} | {orm:.0f} | {100 * (ours / orm - 1):+.0f}% |")


if __name__ == "__main__":
    main()
