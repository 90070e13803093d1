"""Closures and time off over existing bookings: the API and the admin list what they
catch; each customer gets one message with up to three other times and "Cancel";
the staff member hears once; the page of the SMS link moves or cancels; nobody's
answer means a cancellation two hours before the start, with the reason.

The clock is the suite's (Saturday 2026-02-28 08:00 in Riyadh); SMS go through
the console provider.
"""

from datetime import date, datetime

import pytest

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import RIYADH, ManagerFactory, ServiceFactory, StaffFactory, UserFactory
from apps.disruptions.models import SALON_CLOSED, BookingDisruption, DisruptionOutcome
from apps.disruptions.services import disruption_deadline_scan
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.links import link_token
from apps.notifications.models import Notification, NotificationStatus, SalonNotificationSettings, SkipReason
from apps.salons.models import SalonClosure, StaffTimeOff

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)  # a Monday


def _at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=RIYADH)


def _book(api, person, service, staff, start: datetime) -> Booking:
    body = {"service": service.pk, "staff": staff.pk, "start": start.isoformat()}
    response = api.as_user(person).post("/api/bookings/", body)
    assert response.status_code == 201, response.json()
    return Booking.objects.get(pk=response.json()["id"])


@pytest.fixture
def manager(haircut):
    return ManagerFactory(salon=haircut.salon)


@pytest.fixture
def day_of_five(api, now, haircut, stylist):
    """Sara's five bookings on the day: 10:00 to 14:00, five customers."""
    people = [UserFactory(name=f"Guest{i} Family", preferred_language="en") for i in range(5)]
    return [_book(api, person, haircut, stylist, _at(10 + i)) for i, person in enumerate(people)]


def _close(api, manager, salon, day=DAY, reason="Eid"):
    body = {"salon": salon.pk, "start_date": day.isoformat(), "end_date": day.isoformat(), "reason": reason}
    return api.as_user(manager).post("/api/closures/", body)


def _notices(booking):
    return Notification.objects.filter(booking=booking, event="booking_disrupted", recipient=booking.customer)


# --- the API ------------------------------------------------------------------------------------
def test_a_closure_lists_the_bookings_it_catches_and_tells_each_customer_once(
    api, now, manager, haircut, stylist, day_of_five
):
    other_stylist = StaffFactory(salon=haircut.salon, services=[haircut], name="Huda")

    response = _close(api, manager, haircut.salon)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["start_date"], body["end_date"], body["reason"]) == ("2026-03-02", "2026-03-02", "Eid")
    listed = body["affected_bookings"]
    assert [b["id"] for b in listed] == [b.pk for b in day_of_five]
    assert [b["start"] for b in listed] == [f"2026-03-02T{10 + i}:00:00+03:00" for i in range(5)]
    assert {b["outcome"] for b in listed} == {"open"}
    assert [b["cancel_at"] for b in listed] == [f"2026-03-02T{8 + i:02d}:00:00+03:00" for i in range(5)]
    # Up to three other times each, never on the closed day, never the same for two customers.
    offered = [(a["staff"], a["start"]) for b in listed for a in b["alternatives"]]
    assert all(len(b["alternatives"]) == 3 for b in listed)
    assert len(offered) == len(set(offered)) == 15
    assert not any(start.startswith("2026-03-02") for _, start in offered)
    assert {staff for staff, _ in offered} <= {stylist.pk, other_stylist.pk}
    for booking in day_of_five:
        (notice,) = _notices(booking)
        assert notice.message.startswith(
            "Main Salon cannot keep your booking on " + booking.start.astimezone(RIYADH).strftime("%Y-%m-%d %H:%M")
        )
        assert "/d/" in notice.message and notice.status == NotificationStatus.SENT
    summary = Notification.objects.filter(event="booking_disrupted", recipient=stylist)
    assert summary.count() == 1  # told once, in one message
    assert summary.get().message == (
        "لن تتم 5 من مواعيدك في الصالون الرئيسي ابتداءً من 2026-03-02 10:00. عُرضت على العملاء مواعيد أخرى."
    )
    assert BookingDisruption.objects.filter(outcome="open").count() == 5
    assert not Booking.objects.filter(next_reminder_at__isnull=False).exists()  # no reminders of a closed day


def test_alternatives_are_the_nearest_free_times_with_anyone_who_performs_the_service(
    api, now, manager, haircut, stylist, customer
):
    booked = _book(api, customer, haircut, stylist, _at(20, 30, date(2026, 3, 1)))
    StaffTimeOff.objects.create(staff=stylist, start=_at(9, 0, date(2026, 3, 1)), end=_at(20, 0, date(2026, 3, 1)))
    colleague = StaffFactory(salon=haircut.salon, services=[haircut], name="Huda", hours=[("18:00", "21:00")])

    response = api.as_user(manager).post(
        "/api/time-off/",
        {"staff": stylist.pk, "start": "2026-03-01T20:00", "end": "2026-03-01T21:00", "reason": "Sick"},
    )

    assert response.status_code == 201, response.json()
    (caught,) = response.json()["affected_bookings"]
    assert caught["id"] == booked.pk
    # Huda at 20:30 is the same time; then 20:15 and 20:00 (on a tie, the earlier first).
    assert [(a["staff_name"], a["start"]) for a in caught["alternatives"]] == [
        ("Huda", "2026-03-01T20:30:00+03:00"),
        ("Huda", "2026-03-01T20:15:00+03:00"),
        ("Huda", "2026-03-01T20:00:00+03:00"),
    ]
    assert colleague.pk == caught["alternatives"][0]["staff"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"start_date": "2026-03-03", "end_date": "2026-03-02"}, 400, "bad_period"),
        ({"start_date": "2026-02-01", "end_date": "2026-02-02"}, 400, "bad_period"),
        ({"start_date": "2026-03-01", "end_date": "2028-03-02"}, 400, "bad_period"),
        ({"start_date": "2026-03-01", "end_date": "never"}, 400, "invalid"),
        ({"salon": 10**6}, 400, "unknown_salon"),
    ],
)
def test_a_bad_closure_is_a_clear_400(api, now, manager, haircut, body, status, code):
    full = {"salon": haircut.salon_id, "start_date": "2026-03-02", "end_date": "2026-03-02"} | body

    response = api.as_user(manager).post("/api/closures/", full)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not SalonClosure.objects.exists()


def test_only_the_salons_managers_close_it_or_give_time_off(api, now, haircut, stylist, customer):
    elsewhere = ManagerFactory(salon=ServiceFactory().salon)
    time_off = {"staff": stylist.pk, "start": "2026-03-02T09:00", "end": "2026-03-02T12:00"}

    closure_answers = [_close(api, person, haircut.salon).json()["code"] for person in (customer, stylist, elsewhere)]
    time_off_answers = [api.as_user(person).post("/api/time-off/", time_off).json()["code"] for person in (elsewhere,)]

    assert closure_answers == ["managers_only", "managers_only", "other_salon"]
    assert time_off_answers == ["other_salon"]
    assert not SalonClosure.objects.exists() and not StaffTimeOff.objects.exists()


def test_a_bad_time_off_is_a_clear_400(api, now, manager, stylist, customer):
    cases = [
        ({"staff": stylist.pk, "start": "2026-03-02T12:00", "end": "2026-03-02T09:00"}, "bad_period"),
        ({"staff": stylist.pk, "start": "2026-02-01T12:00", "end": "2026-02-02T09:00"}, "bad_period"),
        ({"staff": customer.pk, "start": "2026-03-02T09:00", "end": "2026-03-02T12:00"}, "unknown_staff"),
        ({"staff": stylist.pk, "start": "0001-01-01T00:00", "end": "2026-03-02T12:00"}, "invalid"),
    ]

    answers = [api.as_user(manager).post("/api/time-off/", body).json()["code"] for body, _ in cases]

    assert answers == [code for _, code in cases]


def test_a_booking_too_close_to_wait_for_an_answer_is_cancelled_at_once(api, now, manager, haircut, stylist, customer):
    soon = _book(api, customer, haircut, stylist, _at(9, 30, date(2026, 2, 28)))  # 90 minutes away

    response = _close(api, manager, haircut.salon, day=date(2026, 2, 28))

    (caught,) = response.json()["affected_bookings"]
    assert (caught["status"], caught["outcome"]) == ("cancelled", "cancelled_by_salon")
    soon.refresh_from_db()
    assert (soon.status, soon.cancellation_reason) == (BookingStatus.CANCELLED, SALON_CLOSED)
    assert not _notices(soon).exists()  # no choice to offer: the cancellation itself is the message
    assert Notification.objects.filter(booking=soon, event="booking_cancelled").count() == 2


def test_a_second_closure_over_a_disrupted_booking_tells_nobody_again(api, now, manager, haircut, stylist, day_of_five):
    _close(api, manager, haircut.salon)

    again = api.as_user(manager).post(
        "/api/time-off/", {"staff": stylist.pk, "start": "2026-03-02T00:00", "end": "2026-03-03T00:00"}
    )

    assert {b["already_disrupted"] for b in again.json()["affected_bookings"]} == {True}
    assert Notification.objects.filter(event="booking_disrupted").count() == 6


# --- the deadline -----------------------------------------------------------------------------------
def test_nobodys_answer_means_a_cancellation_two_hours_before_the_start(api, now, manager, haircut, day_of_five):
    _close(api, manager, haircut.salon)
    first, second = day_of_five[:2]

    now.move_to(_at(7, 59))
    assert disruption_deadline_scan().cancelled == 0
    now.move_to(_at(8, 0))
    assert disruption_deadline_scan().cancelled == 1
    now.move_to(_at(9, 0))
    assert disruption_deadline_scan().cancelled == 1
    assert disruption_deadline_scan().cancelled == 0  # a rerun changes nothing

    for booking in (first, second):
        booking.refresh_from_db()
        assert (booking.status, booking.cancellation_reason) == (BookingStatus.CANCELLED, SALON_CLOSED)
        assert Notification.objects.filter(booking=booking, event="booking_cancelled").count() == 2
    assert Booking.objects.filter(status="pending").count() == 3
    assert BookingDisruption.objects.filter(outcome="cancelled_by_salon").count() == 2


def test_a_removed_closure_cancels_nothing_and_a_moved_booking_is_resolved(
    api, client, now, manager, haircut, stylist, day_of_five
):
    _close(api, manager, haircut.salon)
    moved = day_of_five[0]
    response = api.as_user(manager).patch(f"/api/bookings/{moved.pk}/", {"start": "2026-03-03T10:00:00+03:00"})
    assert response.status_code == 200
    SalonClosure.objects.all().delete()
    SalonNotificationSettings.objects.create(salon=haircut.salon, reminder_offsets_minutes=[60])

    now.move_to(_at(12))  # every deadline has come
    result = disruption_deadline_scan()

    assert (result.cancelled, result.resolved) == (0, 5)
    assert Booking.objects.filter(status="cancelled").count() == 0
    # Reminded again, from now on: an hour before 13:00 and 14:00.
    later = [b.pk for b in day_of_five[3:]]
    reminders = Booking.objects.filter(pk__in=later).values_list("next_reminder_at", flat=True)
    assert sorted(reminders) == [_at(12), _at(13)]
    assert BookingDisruption.objects.get(booking=moved).outcome == DisruptionOutcome.MOVED


def test_a_notice_for_a_booking_moved_meanwhile_is_not_sent(api, now, manager, haircut, stylist, customer, settings):
    booking = _book(api, customer, haircut, stylist, _at(10))
    settings.NOTIFICATION_PROVIDER = "twilio"  # not configured: delivery fails unless skipped first
    _close(api, manager, haircut.salon)
    notice = _notices(booking).get()
    Booking.objects.filter(pk=booking.pk).update(reschedule_count=1)
    Notification.objects.filter(pk=notice.pk).update(status="pending", claimed_until=None)

    notification_deliver(notification_id=notice.pk)

    notice.refresh_from_db()
    assert (notice.status, notice.reason) == (NotificationStatus.SKIPPED, SkipReason.BOOKING_MOVED)


# --- the SMS link's page ---------------------------------------------------------------------------
def test_the_page_moves_the_booking_to_a_chosen_time(client, api, now, manager, haircut, stylist, day_of_five):
    _close(api, manager, haircut.salon)
    booking = day_of_five[0]
    disruption = BookingDisruption.objects.get(booking=booking)
    path = f"/d/{link_token('disruption', disruption.pk)}"

    page = client.get(path).content.decode()
    option = disruption.alternatives[0]
    moved = client.post(path, {"choice": "move", "option": f"{option['staff']}|{option['start']}"})

    assert page.count('class="option"') == 3 and 'id="cancel"' in page
    assert 'id="moved"' in moved.content.decode()
    booking.refresh_from_db()
    assert (booking.start.isoformat(), booking.staff_id) == (option["start"], option["staff"])
    assert booking.status == BookingStatus.PENDING and booking.reschedule_count == 1
    assert Notification.objects.filter(booking=booking, event="booking_rescheduled").count() == 2
    assert BookingDisruption.objects.get(pk=disruption.pk).outcome == DisruptionOutcome.MOVED


def test_a_time_taken_meanwhile_shows_the_free_times_again(client, api, now, manager, haircut, stylist, day_of_five):
    _close(api, manager, haircut.salon)
    disruption = BookingDisruption.objects.get(booking=day_of_five[0])
    option = disruption.alternatives[0]
    start = datetime.fromisoformat(option["start"])
    other = StaffFactory(salon=haircut.salon, services=[haircut]) if option["staff"] != stylist.pk else stylist
    assert other.pk == option["staff"]
    _book(api, UserFactory(), haircut, other, start)  # someone books that time first

    taken = client.post(
        f"/d/{link_token('disruption', disruption.pk)}", {"choice": "move", "option": f"{option['staff']}|{start}"}
    ).content.decode()

    assert 'id="taken"' in taken and taken.count('class="option"') == 3
    assert Booking.objects.get(pk=day_of_five[0].pk).start == day_of_five[0].start


def test_the_page_cancels_and_then_offers_nothing_more(client, api, now, manager, haircut, day_of_five):
    _close(api, manager, haircut.salon)
    disruption = BookingDisruption.objects.get(booking=day_of_five[1])
    path = f"/d/{link_token('disruption', disruption.pk)}"

    cancelled = client.post(path, {"choice": "cancel"}).content.decode()
    later = client.get(path).content.decode()

    assert 'id="cancelled"' in cancelled
    assert 'id="closed"' in later and 'class="option"' not in later
    assert Booking.objects.get(pk=day_of_five[1].pk).status == BookingStatus.CANCELLED
    assert BookingDisruption.objects.get(pk=disruption.pk).outcome == DisruptionOutcome.CANCELLED


@pytest.mark.parametrize("option", ["", "x|y", "1|2026-03-03T10:00", "abc|2026-03-03T10:00:00+03:00"])
def test_a_bad_choice_changes_nothing(client, api, now, manager, haircut, day_of_five, option):
    _close(api, manager, haircut.salon)
    disruption = BookingDisruption.objects.get(booking=day_of_five[0])

    response = client.post(f"/d/{link_token('disruption', disruption.pk)}", {"choice": "move", "option": option})

    assert response.status_code == 200
    assert Booking.objects.get(pk=day_of_five[0].pk).start == day_of_five[0].start


def test_a_bad_disruption_link_is_a_404(client, db):
    assert client.get("/d/1AAAAAAAAAA").status_code == 404
    assert client.get(f"/d/{link_token('waitlist-offer', 1)}").status_code == 404


# --- the admin --------------------------------------------------------------------------------------
def test_saving_a_closure_in_the_admin_lists_the_bookings_it_caught(client, now, api, haircut, stylist, day_of_five):
    from apps.common.tests.admin_fixtures import managers_group

    manager = ManagerFactory(salon=haircut.salon, is_staff=True)
    manager.groups.add(managers_group())
    client.force_login(manager)

    response = client.post(
        "/admin/salons/salonclosure/add/",
        {"salon": haircut.salon_id, "start_date": "2026-03-02", "end_date": "2026-03-02", "reason": "Eid"},
        follow=True,
    )

    page = response.content.decode()
    assert "Affected bookings (5)" in page
    assert all(f"#{b.pk} 2026-03-02 {10 + i}:00" in page for i, b in enumerate(day_of_five))
    assert BookingDisruption.objects.count() == 5
    listing = client.get("/admin/disruptions/bookingdisruption/").content.decode()
    assert "2026-03-02 10:00" in listing and "2026-03-02 08:00" in listing  # salon time: start, deadline


def test_the_new_operations_are_in_the_openapi_schema(api, db):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]

    new = {"/api/closures/", "/api/time-off/", "/api/waitlist/", "/api/waitlist/{id}/", "/api/waitlist/{id}/claim/"}
    assert new <= set(paths)
    assert set(paths["/api/waitlist/{id}/"]) == {"get", "delete"}
    assert set(paths["/api/waitlist/"]) == {"get", "post"}
    claimed = paths["/api/waitlist/{id}/claim/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert claimed["$ref"].endswith("/Booking")
    closure = paths["/api/closures/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert closure["$ref"].endswith("/Closure")
