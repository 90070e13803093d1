"""bookings/sql.py against the ORM: each written-out statement answers exactly what
the same question asked through the ORM answers (the list page: test_list.py)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from apps.accounts.models import Role
from apps.bookings import sql
from apps.bookings.models import Booking, BookingStatus
from apps.bookings.schedule import INACTIVE_STATUSES, day_window
from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.salons.models import MAX_BOOKING_SPAN, SalonClosure, StaffTimeOff, WorkingHours

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 3)


@pytest.fixture
def busy_salon(now):
    """Three staff members of one salon with bookings in every status around DAY
    (the day before, across midnight, after), time off, and a fourth in another salon."""
    service = ServiceFactory(duration_minutes=60, buffer_minutes=15)
    staff = [StaffFactory(salon=service.salon, services=[service]) for _ in range(3)]
    elsewhere = ServiceFactory()
    other = StaffFactory(salon=elsewhere.salon, services=[elsewhere])
    WorkingHours.objects.create(staff=staff[0], weekday=DAY.weekday(), start_time=time(22), end_time=time(23, 30))
    starts = [datetime.combine(DAY, time(9), tzinfo=RIYADH) + timedelta(hours=h) for h in range(-16, 30, 3)]
    for n, start in enumerate(starts):
        for member in (*staff, other):
            BookingFactory(
                service=service if member is not other else elsewhere,
                staff=member,
                start=start,
                end=start + timedelta(minutes=60),
                busy_until=start + timedelta(minutes=75),
                status=list(BookingStatus)[n % len(BookingStatus)],
            )
    StaffTimeOff.objects.create(staff=staff[1], start=starts[3], end=starts[5])
    StaffTimeOff.objects.create(staff=staff[2], start=starts[0], end=starts[1])  # the day before
    return service, staff, other, elsewhere


def _orm_staff_day(staff_ids, salon_id, first, window_end, exclude_pk):
    """The same rows as staff_day_rows, asked through the ORM."""
    rows = [
        (sql.StaffDayPart.HOURS, h.staff_id, h.start_time, h.end_time, None, None)
        for h in WorkingHours.objects.filter(staff_id__in=staff_ids, weekday=DAY.weekday())
    ]
    rows += [
        (sql.StaffDayPart.BOOKING, b.staff_id, None, None, b.start, b.busy_until)
        for b in Booking.objects.filter(
            staff_id__in=staff_ids, start__lt=window_end, start__gt=first - MAX_BOOKING_SPAN, busy_until__gt=first
        )
        .exclude(status__in=INACTIVE_STATUSES)
        .exclude(pk=exclude_pk or 0)
    ]
    rows += [
        (sql.StaffDayPart.TIME_OFF, t.staff_id, None, None, t.start, t.end)
        for t in StaffTimeOff.objects.filter(staff_id__in=staff_ids, start__lt=window_end, end__gt=first)
    ]
    rows += [
        (sql.StaffDayPart.CLOSURE, None, None, None, None, None)
        for _ in SalonClosure.objects.filter(salon_id=salon_id, start_date__lte=DAY, end_date__gte=DAY)
    ]
    return sorted(rows, key=_order)


def _order(row):
    return int(row[0]), repr(row[1:])


@pytest.mark.parametrize("closed", [False, True])
@pytest.mark.parametrize("who", ["all", "one", "none"])
def test_the_staff_day_is_the_orms(busy_salon, closed, who):
    service, staff, other, _ = busy_salon
    if closed:
        SalonClosure.objects.create(salon=service.salon, start_date=DAY - timedelta(days=1), end_date=DAY)
    staff_ids = {"all": [s.pk for s in (*staff, other)], "one": [staff[1].pk], "none": []}[who]
    first, last = day_window(DAY, RIYADH)
    window_end = last + timedelta(minutes=75)
    excluded = Booking.objects.filter(staff=staff[0], status=BookingStatus.PENDING).first().pk

    rows = sql.staff_day_rows(
        staff_ids=staff_ids,
        salon_id=service.salon_id,
        local_date=DAY,
        inactive_statuses=INACTIVE_STATUSES,
        bookings_from=first - MAX_BOOKING_SPAN,
        first=first,
        window_end=window_end,
        exclude_booking_pk=excluded,
    )

    expected = _orm_staff_day(staff_ids, service.salon_id, first, window_end, excluded)
    assert sorted(rows, key=_order) == expected
    assert all(moment is None or moment.tzinfo is not None for row in rows for moment in row[4:])
    assert (who == "none" and not closed) or rows  # the check can see rows


@pytest.mark.parametrize("only", [None, "first", "stranger"])
def test_a_service_with_its_performers_is_the_orms(busy_salon, only):
    service, staff, other, _ = busy_salon
    staff[2].is_active = False
    staff[2].save()
    customer = UserFactory(role=Role.CUSTOMER)
    service.staff_members.add(customer, other)  # neither may perform it here
    staff_id = {None: None, "first": staff[0].pk, "stranger": other.pk}[only]

    rows = sql.service_with_performers(salon_id=service.salon_id, service_id=service.pk, staff_id=staff_id)

    performers = service.staff_members.filter(
        is_active=True, role__in=[Role.STAFF, Role.MANAGER], salon_id=service.salon_id
    ).order_by("name", "id")
    if staff_id is not None:
        performers = performers.filter(pk=staff_id)
    head = (service.duration_minutes, service.buffer_minutes, service.salon.time_zone)
    assert {row[:3] for row in rows} == {head}
    assert [row[3:] for row in rows if row[3] is not None] == [(p.pk, p.name) for p in performers]
    assert only == "stranger" or performers.exists()  # the check can see performers


def test_an_unknown_or_inactive_service_has_no_row(busy_salon):
    service, _, _, elsewhere = busy_salon

    assert sql.service_with_performers(salon_id=service.salon_id, service_id=elsewhere.pk, staff_id=None) == []
    service.is_active = False
    service.save()
    assert sql.service_with_performers(salon_id=service.salon_id, service_id=service.pk, staff_id=None) == []


@pytest.mark.parametrize(
    "stored",
    ["2026-03-01 06:00:00", "2026-03-01 06:00:00.250000", "2026-03-01 06:00:00+00", "2026-03-01 09:00:00+03:00"],
)
def test_the_decoder_reads_every_form_a_timestamp_comes_in(stored):
    fraction = timedelta(milliseconds=250) if ".25" in stored else timedelta()
    expected = datetime(2026, 3, 1, 6, 0, tzinfo=UTC) + fraction

    (moment, opens) = sql._decode((stored, "09:30:00"), (sql.Kind.MOMENT, sql.Kind.TIME))

    assert moment == expected and moment.tzinfo is not None and opens == time(9, 30)
