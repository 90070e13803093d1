"""GET /api/bookings/: the pages read by the written-out statement (bookings/sql.py),
walked by cursor to the end and back, are exactly the ORM's list, for every role
and filter."""

import base64
from datetime import datetime, timedelta

import pytest
from django.http import QueryDict

from apps.bookings.filters import BookingFilter
from apps.bookings.models import Booking, BookingStatus
from apps.bookings.selectors import booking_list
from apps.bookings.serializers import BookingSerializer
from apps.common.tests.factories import (
    RIYADH,
    BookingFactory,
    ManagerFactory,
    ServiceFactory,
    StaffFactory,
    UserFactory,
)
from apps.common.tests.live import rows_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_salons(now):
    """Two salons, two staff members and three customers each side, bookings over a
    week in every status and two time zones."""
    people = {}
    for side, zone in [("a", "Asia/Riyadh"), ("b", "Europe/London")]:
        service = ServiceFactory(salon__time_zone=zone)
        staff = [StaffFactory(salon=service.salon, services=[service]) for _ in range(2)]
        customers = [UserFactory() for _ in range(3)]
        statuses = list(BookingStatus)
        for n in range(60):
            start = _start(n)
            BookingFactory(
                service=service,
                staff=staff[n % 2],
                customer=customers[n % 3],
                start=start,
                end=start + timedelta(minutes=30),
                busy_until=start + timedelta(minutes=30),
                status=statuses[n % len(statuses)],
                note=f"note {n}" if n % 4 == 0 else "",
            )
        people[side] = {"salon": service.salon, "staff": staff, "customers": customers}
    people["manager"] = ManagerFactory(salon=people["a"]["salon"])
    people["root"] = UserFactory(is_superuser=True, is_staff=True)
    # Customer 0 of salon a also booked at salon b.
    BookingFactory(service=Booking.objects.filter(salon=people["b"]["salon"]).first().service,
                   staff=people["b"]["staff"][0], customer=people["a"]["customers"][0], start=_start(61))  # fmt: skip
    return people


def _start(n):
    # Half-hour steps from 2026-03-01 09:00 Riyadh, on several days.
    return datetime(2026, 3, 1 + n % 5, 9, 0, tzinfo=RIYADH) + timedelta(minutes=30 * (n // 5))


QUERIES = [
    {},
    {"page_size": "7"},
    {"status": "confirmed"},
    {"status": ["pending", "cancelled"], "page_size": "4"},
    {"start_from": "2026-03-02T00:00:00+03:00", "start_to": "2026-03-04T12:00:00+03:00"},
    {"start_from": "2026-03-03T10:00:00Z", "status": "pending", "page_size": "3"},
    {"staff": "STAFF", "page_size": "5"},
    {"status": "completed", "start_to": "2026-03-01T00:00:00+03:00"},  # nothing
]
WHO = ["root", "manager", "staff", "customer", "other_customer"]


def _reader(two_salons, who):
    return {
        "root": two_salons["root"],
        "manager": two_salons["manager"],
        "staff": two_salons["a"]["staff"][1],
        "customer": two_salons["a"]["customers"][0],
        "other_customer": two_salons["b"]["customers"][2],
    }[who]


def _params(query, two_salons) -> QueryDict:
    params = QueryDict(mutable=True)
    for name, value in query.items():
        value = str(two_salons["a"]["staff"][1].pk) if value == "STAFF" else value
        params.setlist(name, value if isinstance(value, list) else [value])
    return params


def _walk(client, url, link="next"):
    """Every page from ``url`` on, following ``link``: (pages, answers)."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1][link]
        assert len(pages) < 100
    return pages


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_the_list_walked_by_cursor_is_the_orms_list(api, two_salons, who, query):
    user = _reader(two_salons, who)
    params = _params(query, two_salons)
    client = api.as_user(user)

    pages = _walk(client, f"/api/bookings/?{params.urlencode()}")

    filtered = BookingFilter(params, queryset=booking_list(user=user)).qs.order_by("start", "id")
    expected = [BookingSerializer(b).data for b in filtered]
    assert expected or query  # every role sees some bookings unfiltered
    size = int(query.get("page_size", 20))
    assert [len(page["results"]) for page in pages[:-1]] == [size] * (len(pages) - 1)
    assert [row for page in pages for row in page["results"]] == expected  # every booking once, in order
    assert "count" not in pages[0] and pages[0]["previous"] is None and pages[-1]["next"] is None
    # And back from the last page by the previous links: the same pages, reversed.
    back = _walk(client, pages[-1]["previous"], link="previous") if pages[-1]["previous"] else []
    assert [page["results"] for page in reversed(back)] == [page["results"] for page in pages[:-1]]


def test_bookings_at_the_same_instant_are_each_listed_once_across_pages(api, now):
    service = ServiceFactory()
    staff = [StaffFactory(salon=service.salon, services=[service]) for _ in range(7)]
    manager = ManagerFactory(salon=service.salon)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=RIYADH)
    made = [BookingFactory(service=service, staff=member, start=start).pk for member in staff]

    pages = _walk(api.as_user(manager), "/api/bookings/?page_size=2")

    assert [row["id"] for page in pages for row in page["results"]] == sorted(made)
    assert len(pages) == 4


def test_a_booking_added_before_the_cursor_does_not_shift_the_next_page(api, two_salons):
    customer = two_salons["a"]["customers"][0]
    client = api.as_user(customer)
    first = client.get("/api/bookings/?page_size=5").json()
    booking = Booking.objects.get(pk=first["results"][0]["id"])
    BookingFactory(service=booking.service, staff=booking.staff, customer=customer, start=_start(0) - timedelta(days=1))

    second = client.get(first["next"]).json()

    expected = BookingFilter(QueryDict(), queryset=booking_list(user=customer)).qs.order_by("start", "id")
    assert [row["id"] for row in second["results"]] == [b.pk for b in expected[6:11]]


def _encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NOT_OURS = [
    "nonsense",
    "%%%",
    _encoded("p=2026"),  # no id
    _encoded("p=notadate~1"),
    _encoded("x=1"),  # unknown field
    _encoded("p=2026-03-01T06:00:00~1"),  # no offset
    _encoded("p=2026-03-01T06:00:00+00:00~0"),  # ids start at 1
    _encoded("p=2026-03-01T06:00:00+00:00~99999999999999999999"),  # past BIGINT
    _encoded("p=0001-01-01T00:00:00+05:00~1"),  # before year 1 in UTC
    _encoded("r=1&r=1"),
]


@pytest.mark.parametrize("cursor", NOT_OURS)
def test_a_cursor_that_is_not_ours_is_a_400(api, two_salons, cursor):
    response = api.as_user(two_salons["root"]).get(f"/api/bookings/?cursor={cursor}")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_cursor" and "cursor" in response.json()["fields"]


def test_a_page_number_and_an_unknown_status_are_400s(api, two_salons):
    customer = two_salons["a"]["customers"][0]

    numbered = api.as_user(customer).get("/api/bookings/?page=2")
    unknown = api.as_user(customer).get("/api/bookings/?status=lost")

    assert numbered.status_code == 400 and numbered.json()["code"] == "invalid_cursor"
    assert unknown.status_code == 400 and "status" in unknown.json()["fields"]


def test_a_page_emptied_since_its_cursor_links_back_to_the_last_page(api, two_salons):
    client = api.as_user(two_salons["a"]["customers"][0])
    pages = _walk(client, "/api/bookings/?page_size=1&status=pending")
    last, before_last = pages[-1]["results"][0], pages[-2]["results"][0]
    Booking.objects.filter(pk=last["id"]).update(status=BookingStatus.CANCELLED)

    emptied = client.get(pages[-2]["next"]).json()
    back = client.get(emptied["previous"]).json()

    assert emptied["results"] == [] and emptied["next"] is None
    assert [row["id"] for row in back["results"]] == [before_last["id"]] and back["next"] is None


def test_the_schema_names_the_cursor_and_no_count(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    listing = schema["paths"]["/api/bookings/"]["get"]
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {"cursor", "page_size", "staff", "start_from", "start_to", "status"}
    assert set(schema["components"]["schemas"][page]["properties"]) == {"next", "previous", "results"}


def test_the_answer_the_schema_and_the_lists_statement_come_from_one_declaration(api, two_salons):
    from apps.bookings.answer import COLUMNS, FIELDS
    from apps.bookings.sql import ANSWER_COLUMNS

    schema = api.get("/api/schema/", {"format": "json"}).json()
    listed = api.as_user(two_salons["root"]).get("/api/bookings/?page_size=1").json()["results"][0]

    assert list(schema["components"]["schemas"]["Booking"]["properties"]) == [field.name for field in FIELDS]
    assert list(listed) == [field.name for field in FIELDS]
    assert ANSWER_COLUMNS == COLUMNS


def test_a_page_reads_a_page_of_rows_however_many_bookings_the_planner_has_not_seen(postgres, api, now):
    # A customer whose 2,000 bookings arrived after the statistics were taken: the page
    # must read ~page_size rows in index order, not join and sort all of them (it did,
    # 6 ms, when the index was (customer, start) and ties were broken by id).
    import json

    from django.db import connection

    service = ServiceFactory()
    staff = [StaffFactory(salon=service.salon, services=[service]) for _ in range(4)]
    others = [UserFactory() for _ in range(3)]
    first = datetime(2026, 3, 2, 9, 0, tzinfo=RIYADH)
    Booking.objects.bulk_create(
        Booking(salon=service.salon, service=service, customer=others[n % 3], staff=staff[n % 4],
                start=first + timedelta(hours=n), end=first + timedelta(hours=n, minutes=30),
                busy_until=first + timedelta(hours=n, minutes=30))
        for n in range(300)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")
        cursor.execute("ANALYZE accounts_user")
    customer = UserFactory()
    later = first + timedelta(days=30)
    Booking.objects.bulk_create(
        Booking(salon=service.salon, service=service, customer=customer, staff=staff[n % 4],
                start=later + timedelta(minutes=30 * (n // 4)), end=later + timedelta(minutes=30 * (n // 4) + 30),
                busy_until=later + timedelta(minutes=30 * (n // 4) + 30))
        for n in range(2000)
    )  # fmt: skip
    plans = []

    def explain(execute, sql, params, many, context):
        if "ORDER BY b.start" in sql and not sql.startswith("EXPLAIN"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plans.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    client = api.as_user(customer)
    with connection.execute_wrapper(explain):
        first_page = client.get("/api/bookings/")
        second_page = client.get(first_page.json()["next"])

    assert len(first_page.json()["results"]) == 20 and len(second_page.json()["results"]) == 20
    assert len(plans) == 2
    for plan in plans:
        plan = plan if isinstance(plan, list) else json.loads(plan)
        assert rows_read(plan[0]["Plan"], "bookings_booking") <= 21, json.dumps(plan, indent=1)
