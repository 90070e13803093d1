"""GET /api/availability/: what a customer may book, and that it agrees with booking."""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking, BookingStatus
from apps.bookings.services import booking_create
from apps.common.errors import AppError
from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.live import rows_read
from apps.salons.models import SalonClosure, StaffTimeOff, WorkingHours

pytestmark = pytest.mark.django_db

DAY = "2026-03-01"  # the day after conftest.NOW


def _availability(api, service, day=DAY, **extra):
    response = api.get("/api/availability/", {"salon": service.salon_id, "service": service.pk, "date": day, **extra})
    assert response.status_code == 200, response.json()
    return response.json()


def _times(body, staff):
    slots = next(item["slots"] for item in body["staff"] if item["id"] == staff.pk)
    return [slot[11:16] for slot in slots]


def _at(day: str, hhmm: str, tz=RIYADH) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=tz)


def _book_row(service, staff, start, status=BookingStatus.PENDING, buffer=0):
    end = start + timedelta(minutes=service.duration_minutes)
    return BookingFactory(
        service=service, staff=staff, start=start, end=end, busy_until=end + timedelta(minutes=buffer), status=status
    )


def test_a_free_day_offers_every_15_minutes_of_the_shift(api, now, haircut, stylist):
    body = _availability(api, haircut)

    assert body["time_zone"] == "Asia/Riyadh" and body["step_minutes"] == 15 and body["duration_minutes"] == 30
    times = _times(body, stylist)
    assert times[0] == "09:00" and times[-1] == "20:30" and len(times) == 47
    assert body["staff"][0]["slots"][0] == "2026-03-01T09:00:00+03:00"
    assert "phone" not in str(body)


def test_bookings_and_their_buffer_are_taken_out_and_cancelled_ones_free_their_slot(api, now, stylist):
    haircut = stylist.services_performed.get()
    haircut.buffer_minutes = 15
    haircut.save()
    _book_row(haircut, stylist, _at(DAY, "10:00"), buffer=15)  # busy 10:00-10:45
    _book_row(haircut, stylist, _at(DAY, "14:00"), status=BookingStatus.CANCELLED, buffer=15)

    times = _times(_availability(api, haircut), stylist)

    # A new 30-minute slot plus its own 15-minute buffer must end by 10:00 and start at 10:45 or later.
    assert "09:15" in times and "09:30" not in times and "10:30" not in times and "10:45" in times
    assert "14:00" in times


def test_a_closure_day_offers_nothing(api, now, haircut, stylist):
    SalonClosure.objects.create(
        salon=haircut.salon, start_date=date(2026, 2, 28), end_date=date(2026, 3, 2), reason="Eid"
    )

    assert _times(_availability(api, haircut), stylist) == []
    response = api.as_user(UserFactory()).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": f"{DAY}T10:00:00+03:00"}
    )
    assert response.status_code == 400 and response.json()["code"] == "salon_closed"


def test_a_split_shift_offers_nothing_in_its_gap(api, now, haircut):
    split = StaffFactory(salon=haircut.salon, services=[haircut], hours=[(time(9), time(12)), (time(16), time(21))])

    times = _times(_availability(api, haircut), split)

    assert "11:30" in times and "11:45" not in times and "13:00" not in times and "16:00" in times


def test_time_off_is_taken_out(api, now, haircut, stylist):
    StaffTimeOff.objects.create(staff=stylist, start=_at(DAY, "12:00"), end=_at(DAY, "13:00"))

    times = _times(_availability(api, haircut), stylist)

    assert "11:30" in times and "11:45" not in times and "12:45" not in times and "13:00" in times
    response = api.as_user(UserFactory()).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": f"{DAY}T12:15:00+03:00"}
    )
    assert response.json()["code"] == "staff_time_off"


def test_nothing_in_the_past(api, now, haircut, stylist):
    # conftest.NOW is 2026-02-28 08:00 Riyadh; move to 14:05.
    now.move_to(datetime(2026, 2, 28, 14, 5, tzinfo=RIYADH))

    times = _times(_availability(api, haircut, day="2026-02-28"), stylist)

    assert times[0] == "14:15"
    assert _availability(api, haircut, day="2026-02-27")["staff"][0]["slots"] == []
    assert _availability(api, haircut, day="0001-01-01")["staff"][0]["slots"] == []


def test_the_longest_booking_reaching_into_the_day_from_the_day_before_is_seen(api, now, customer):
    from django.db import IntegrityError

    from apps.salons.models import MAX_BUFFER_MINUTES, MAX_DURATION_MINUTES

    night = ServiceFactory(duration_minutes=MAX_DURATION_MINUTES, buffer_minutes=MAX_BUFFER_MINUTES)
    haircut = ServiceFactory(salon=night.salon)
    owl = StaffFactory(salon=night.salon, services=[night, haircut], hours=[(time(0), time(23, 59))])
    # 2026-02-28 22:00 + 10 h + 2 h: the staff member is held until 2026-03-01 10:00.
    _book_row(night, owl, _at("2026-02-28", "22:00"), buffer=MAX_BUFFER_MINUTES)

    times = _times(_availability(api, haircut), owl)
    refused = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": owl.pk, "start": "2026-03-01T09:30:00+03:00"}
    )

    assert times[0] == "10:00"
    assert refused.status_code == 409 and refused.json()["code"] == "slot_taken"
    # The span the day's query relies on is the database's rule, not only a form's.
    for field, value in [("duration_minutes", MAX_DURATION_MINUTES + 1), ("buffer_minutes", MAX_BUFFER_MINUTES + 1)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            type(haircut).objects.filter(pk=haircut.pk).update(**{field: value})


def test_asking_again_sees_the_clock_and_new_bookings(api, now, haircut, stylist):
    # The day's calendar arithmetic is remembered between requests; nothing else is.
    first = _times(_availability(api, haircut, day="2026-02-28"), stylist)
    now.move_to(datetime(2026, 2, 28, 14, 5, tzinfo=RIYADH))
    later = _times(_availability(api, haircut, day="2026-02-28"), stylist)
    _book_row(haircut, stylist, _at("2026-02-28", "15:00"))
    booked = _times(_availability(api, haircut, day="2026-02-28"), stylist)

    assert first[0] == "09:00" and later[0] == "14:15"
    assert "15:00" in later and "14:45" in later
    assert [t for t in later if t not in booked] == ["14:45", "15:00", "15:15"]


def test_the_booking_horizon_is_one_rule_for_availability_and_booking(api, now, settings, haircut, stylist, customer):
    settings.BOOKING_HORIZON_DAYS = 30  # NOW is 2026-02-28: the last bookable day is 2026-03-30

    last_day = _availability(api, haircut, day="2026-03-30")["staff"][0]["slots"]
    assert last_day
    booked = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": last_day[-1]}
    )
    assert booked.status_code == 201, booked.content

    shown = api.get("/api/availability/", {"salon": haircut.salon_id, "service": haircut.pk, "date": "2026-03-31"})
    assert (shown.status_code, shown.json()["code"]) == (400, BookingErrorCode.START_TOO_FAR_AHEAD)
    refused = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-31T10:00:00+03:00"}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, BookingErrorCode.START_TOO_FAR_AHEAD)


def test_staff_filter_and_every_staff_member_who_performs_the_service(api, now, haircut, stylist):
    other = StaffFactory(salon=haircut.salon, services=[haircut])
    StaffFactory(salon=haircut.salon)  # performs nothing

    everyone = _availability(api, haircut)
    one = _availability(api, haircut, staff=other.pk)

    assert {item["id"] for item in everyone["staff"]} == {stylist.pk, other.pk}
    assert [item["id"] for item in one["staff"]] == [other.pk]


def test_only_active_staff_of_the_salon_who_perform_the_service_are_offered_by_name(api, now, haircut, stylist):
    from apps.accounts.models import Role

    manager = StaffFactory(salon=haircut.salon, services=[haircut], role=Role.MANAGER, name="Aaron Manager")
    StaffFactory(salon=haircut.salon, services=[haircut], is_active=False)
    StaffFactory(services=[haircut])  # performs it, but works at another salon
    UserFactory().services_performed.add(haircut)  # a customer linked by mistake
    nobody = ServiceFactory(salon=haircut.salon, name="Nails")

    body = _availability(api, haircut)

    assert [item["id"] for item in body["staff"]] == [manager.pk, stylist.pk]
    assert _availability(api, nobody)["staff"] == []
    assert _availability(api, haircut, staff=manager.pk)["staff"][0]["name"] == "Aaron Manager"
    for service_id, salon_id in [(haircut.pk, ServiceFactory().salon_id), (ServiceFactory(is_active=False).pk, None)]:
        query = {"salon": salon_id or haircut.salon_id, "service": service_id, "date": DAY}
        response = api.get("/api/availability/", query)
        assert response.status_code == 400 and response.json()["code"] == "unknown_service"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"service": 999}, "unknown_service"),
        ({"date": "tomorrow"}, "invalid"),
        ({"date": "2027-12-01"}, BookingErrorCode.START_TOO_FAR_AHEAD),
        ({"salon": "x"}, "invalid"),
    ],
)
def test_bad_queries_are_clear_400s(api, now, haircut, params, code):
    query = {"salon": haircut.salon_id, "service": haircut.pk, "date": DAY, **params}

    response = api.get("/api/availability/", query)

    assert response.status_code == 400 and response.json()["code"] == code


def test_missing_parameters_are_named(api, db):
    response = api.get("/api/availability/")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"salon", "service", "date"}


def test_every_offered_slot_is_accepted_by_booking(api, now, haircut, stylist):
    _book_row(haircut, stylist, _at(DAY, "10:00"))
    customer = UserFactory()
    slots = _availability(api, haircut)["staff"][0]["slots"]
    chosen = slots[:6] + slots[-3:]

    # 09:00-21:00 by 15 minutes is 47 starts for 30 minutes; 09:45, 10:00 and 10:15 overlap the booking.
    assert len(slots) == 44 and [s[11:16] for s in chosen] == [
        "09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "20:00", "20:15", "20:30"
    ]  # fmt: skip
    for slot in chosen:
        with transaction.atomic():
            response = api.as_user(customer).post(
                "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": slot}
            )
            assert response.status_code == 201, (slot, response.json())
            transaction.set_rollback(True)


def _count_queries(api, service) -> int:
    with CaptureQueriesContext(connection) as queries:
        _availability(api, service)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_staff_or_bookings(api, now):
    small = ServiceFactory()
    lone = StaffFactory(salon=small.salon, services=[small])
    _book_row(small, lone, _at(DAY, "10:00"))
    big = ServiceFactory()
    team = [StaffFactory(salon=big.salon, services=[big]) for _ in range(20)]
    rows = []
    for member in team:
        for day in range(100):  # 2,000 bookings over 100 days, some on DAY
            start = _at(DAY, "09:00") + timedelta(days=day - 50, minutes=30 * (day % 20))
            end = start + timedelta(minutes=30)
            rows.append(
                Booking(
                    salon=big.salon,
                    service=big,
                    customer=lone,
                    staff=member,
                    start=start,
                    end=end,
                    busy_until=end,
                )
            )
    Booking.objects.bulk_create(rows)
    assert Booking.objects.filter(service=big).count() == 2000

    # the service with its salon and performers, their day (one UNION): it was 6 before issue #13.
    assert _count_queries(api, small) == _count_queries(api, big) == 2


LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def london(now):
    service = ServiceFactory(salon__name="London Salon", salon__time_zone="Europe/London")
    night_owl = StaffFactory(salon=service.salon, services=[service], hours=[(time(0), time(4))])
    return service, night_owl


def test_availability_skips_the_hour_the_clocks_jump_over(api, london):
    service, _staff = london

    # 2026-03-29: London clocks go from 01:00 GMT to 02:00 BST.
    slots = _availability(api, service, day="2026-03-29")["staff"][0]["slots"]

    assert slots[:3] == ["2026-03-29T00:00:00+00:00", "2026-03-29T00:15:00+00:00", "2026-03-29T00:30:00+00:00"]
    assert not [s for s in slots if s[11:13] == "01"]
    assert "2026-03-29T02:00:00+01:00" in slots


@pytest.mark.parametrize(
    ("start", "status", "code"),
    [
        ("2026-03-29T01:30:00", 400, "nonexistent_local_time"),
        ("2026-10-25T01:30:00", 400, "ambiguous_local_time"),
        ("2026-10-25T01:30:00+01:00", 201, None),
        ("2026-10-25T01:30:00+00:00", 201, None),
        # 00:45 GMT + 30 real minutes ends 02:15 BST: inside the 00:00-04:00 shift.
        ("2026-03-29T00:45:00", 201, None),
        ("2026-03-29T03:45:00", 400, "outside_working_hours"),
    ],
)
def test_daylight_saving_edges_are_clear_answers(api, settings, london, start, status, code):
    settings.BOOKING_HORIZON_DAYS = 365  # October's clock change is 239 days after NOW
    service, staff = london

    response = api.as_user(UserFactory()).post(
        "/api/bookings/", {"service": service.pk, "staff": staff.pk, "start": start}
    )

    assert response.status_code == status, response.json()
    if code:
        assert response.json()["code"] == code


# --- property: availability == brute force, and booking agrees ---------------------
MINUTES = st.integers(min_value=0, max_value=24 * 12 - 1).map(lambda n: n * 5)


@st.composite
def day_plans(draw):
    cuts = sorted(draw(st.sets(MINUTES, min_size=2, max_size=4)))
    intervals = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    bookings = draw(
        st.lists(
            st.tuples(
                MINUTES,
                st.integers(1, 24).map(lambda n: n * 5),
                st.sampled_from([0, 5, 10, 15]),
                st.sampled_from(["pending", "confirmed", "cancelled"]),
            ),
            max_size=6,
        )
    )
    time_off = draw(st.lists(st.tuples(MINUTES, st.integers(1, 36).map(lambda n: n * 5)), max_size=1))
    return {
        "intervals": intervals,
        "duration": draw(st.sampled_from([15, 20, 30, 45, 60, 90])),
        "buffer": draw(st.sampled_from([0, 5, 10, 15])),
        "bookings": _without_overlaps(bookings),
        "time_off": time_off,
        "closed": draw(st.integers(0, 9)) == 0,  # one plan in ten is a closure day
        "day": draw(st.sampled_from(["2026-02-28", "2026-03-01"])),
    }


def _without_overlaps(bookings):
    """Active bookings never overlap (PostgreSQL enforces it): keep the plan real."""
    kept, busy = [], set()
    for start, length, buffer, status in bookings:
        span = set(range(start, start + length + buffer))
        if status != "cancelled":
            if span & busy:
                continue
            busy |= span
        kept.append((start, length, buffer, status))
    return kept


def _brute_force(plan, now_minute: int) -> set[int]:
    """Free grid starts (minutes from local midnight), worked out minute by minute."""
    if plan["closed"]:
        return set()
    taken = set()
    for start, length, buffer, status in plan["bookings"]:
        if status != "cancelled":
            taken.update(range(start, start + length + buffer))
    off = {m for start, length in plan["time_off"] for m in range(start, start + length)}
    free = set()
    for opens, closes in plan["intervals"]:
        for start in range(opens, closes, 15):
            end = start + plan["duration"]
            if end > closes or end > 24 * 60 or start <= now_minute:
                continue
            if off & set(range(start, end)) or taken & set(range(start, end + plan["buffer"])):
                continue
            free.add(start)
    return free


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=day_plans())
def test_availability_matches_a_brute_force_oracle_and_booking_agrees(now, plan):
    day = date.fromisoformat(plan["day"])
    midnight = datetime.combine(day, time(0), tzinfo=RIYADH)
    now_minute = 8 * 60 if plan["day"] == "2026-02-28" else -1  # conftest.NOW: 2026-02-28 08:00
    with transaction.atomic():
        service = ServiceFactory(duration_minutes=plan["duration"], buffer_minutes=plan["buffer"])
        staff = StaffFactory(salon=service.salon, services=[service], hours=[])
        for opens, closes in plan["intervals"]:
            WorkingHours.objects.create(
                staff=staff,
                weekday=day.weekday(),
                start_time=time(opens // 60, opens % 60),
                end_time=time(min(closes, 24 * 60 - 1) // 60, min(closes, 24 * 60 - 1) % 60),
            )
        for start, length, buffer, status in plan["bookings"]:
            begin = midnight + timedelta(minutes=start)
            end = begin + timedelta(minutes=length)
            BookingFactory(
                service=service,
                staff=staff,
                start=begin,
                end=end,
                busy_until=end + timedelta(minutes=buffer),
                status=status,
            )
        for start, length in plan["time_off"]:
            StaffTimeOff.objects.create(
                staff=staff,
                start=midnight + timedelta(minutes=start),
                end=midnight + timedelta(minutes=start + length),
            )
        if plan["closed"]:
            SalonClosure.objects.create(salon=service.salon, start_date=day, end_date=day)
        customer = UserFactory()

        from apps.bookings.selectors import availability_for_day

        offered = {
            int((start.local - midnight).total_seconds() // 60)
            for start in availability_for_day(salon_id=service.salon_id, service_id=service.pk, local_date=day)
            .staff[0]
            .starts
        }
        # 23:59 is the latest a TimeField can close: the oracle uses the same bound.
        plan_bounded = {**plan, "intervals": [(o, min(c, 24 * 60 - 1)) for o, c in plan["intervals"]]}
        assert offered == _brute_force(plan_bounded, now_minute)

        grid = sorted({s for o, c in plan_bounded["intervals"] for s in range(o, c, 15)})
        for start in grid[:: max(1, len(grid) // 6)] + sorted(offered)[:2]:
            accepted = True
            try:
                with transaction.atomic():
                    booking_create(
                        actor=customer,
                        service_id=service.pk,
                        staff_id=staff.pk,
                        start=midnight + timedelta(minutes=start),
                    )
                    transaction.set_rollback(True)
            except AppError:
                accepted = False
            assert accepted == (start in offered), (start, plan)
        transaction.set_rollback(True)


def test_the_staff_day_reads_one_days_bookings_however_many_come_before_and_after(postgres, api, now, haircut, stylist):
    # 6,000 active bookings of this staff member from a year before to a year after
    # the asked day, and statistics that have not seen them: the day's query must
    # not walk them (it did: 5 to 9 ms for that query alone in the benchmark).
    first = _at(DAY, "09:00") - timedelta(days=365)
    day = _at(DAY, "00:00").date()
    # Statistics that know 1,000 bookings of someone else, as after a burst of bookings.
    elsewhere = StaffFactory()
    Booking.objects.bulk_create(
        Booking(salon=elsewhere.salon, service=haircut, customer=stylist, staff=elsewhere, start=start,
                end=start + timedelta(minutes=30), busy_until=start + timedelta(minutes=30))
        for start in (first + timedelta(hours=n) for n in range(1000))
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")
    starts = [first + timedelta(days=n // 8, minutes=60 * (n % 8)) for n in range(6000)]
    Booking.objects.bulk_create(
        Booking(salon=haircut.salon, service=haircut, customer=stylist, staff=stylist, start=start,
                end=start + timedelta(minutes=30), busy_until=start + timedelta(minutes=30))
        for start in starts
        if start.astimezone(RIYADH).date() != day
    )  # fmt: skip
    _book_row(haircut, stylist, _at(DAY, "10:00"))
    plans = []

    def explain(execute, sql, params, many, context):
        if "UNION ALL" in sql and not sql.startswith("EXPLAIN"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plans.append(cursor.fetchone()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        times = _times(_availability(api, haircut), stylist)

    plan = plans[0] if isinstance(plans[0], list) else json.loads(plans[0])
    assert "10:00" not in times and "10:30" in times
    assert rows_read(plan[0]["Plan"], "bookings_booking") < 20, json.dumps(plan, indent=1)
