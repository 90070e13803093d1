"""The booking API: creating, listing, filtering, moving, and every refusal as clear JSON."""

from datetime import time, timedelta

import pytest

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import BookingFactory, ManagerFactory, ServiceFactory, StaffFactory
from apps.notifications.models import Notification, NotificationEvent

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"


def _book(api, user, service, staff, start=START, **extra):
    return api.as_user(user).post("/api/bookings/", {"service": service.pk, "staff": staff.pk, "start": start, **extra})


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    assert isinstance(body["fields"], dict)
    return body


def test_create_returns_the_booking_in_salon_time(api, now, customer, haircut, stylist):
    response = _book(api, customer, haircut, stylist, note="  Short on the sides  ")

    assert response.status_code == 201
    body = response.json()
    assert body["start"] == "2026-03-01T10:00:00+03:00"
    assert body["end"] == "2026-03-01T10:30:00+03:00"
    assert (body["status"], body["customer"], body["staff"], body["salon"]) == (
        "pending",
        customer.pk,
        stylist.pk,
        haircut.salon_id,
    )
    assert body["note"] == "Short on the sides"
    booking = Booking.objects.get(pk=body["id"])
    assert booking.start.isoformat() == "2026-03-01T07:00:00+00:00"


def test_a_start_without_offset_is_read_in_the_salon_time_zone(api, now, customer, haircut, stylist):
    response = _book(api, customer, haircut, stylist, start="2026-03-01T10:00:00")

    assert response.status_code == 201, response.json()
    assert response.json()["start"] == "2026-03-01T10:00:00+03:00"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"service": 999999}, 400, "unknown_service"),
        ({"staff": 999999}, 400, "unknown_staff"),
        ({"start": "2026-02-27T10:00:00+03:00"}, 400, "start_in_past"),
        ({"start": "2026-03-01T08:30:00+03:00"}, 400, "outside_working_hours"),
        ({"start": "2026-03-01T20:45:00+03:00"}, 400, "outside_working_hours"),  # would end 21:15
        ({"start": "not a date"}, 400, "invalid"),
        ({"service": "abc"}, 400, "invalid"),
        ({"note": "x" * 501}, 400, "invalid"),
        ({"start": "3000-01-01T10:00:00+03:00"}, 400, "invalid"),
        ({"start": "0001-01-01T00:00:00"}, 400, "invalid"),
        ({"start": "2026-08-28T09:00:00+03:00"}, 400, "start_too_far_ahead"),  # NOW + 181 days
    ],
)
def test_bad_create_input_is_a_clear_400(api, now, customer, haircut, stylist, body, status, code):
    payload = {"service": haircut.pk, "staff": stylist.pk, "start": START, **body}

    response = api.as_user(customer).post("/api/bookings/", payload)

    _assert_error(response, status, code)
    assert Booking.objects.count() == 0
    assert Notification.objects.count() == 0


def test_missing_fields_name_each_field(api, now, customer):
    response = api.as_user(customer).post("/api/bookings/", {})

    body = _assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"service", "staff", "start"}


def test_malformed_json_is_a_400(api, now, customer):
    api.as_user(customer)
    response = api.client.post("/api/bookings/", data="{not json", content_type="application/json")

    _assert_error(response, 400, "parse_error")


def test_staff_member_who_does_not_perform_the_service_is_a_400(api, now, customer, haircut):
    colourist = StaffFactory(salon=haircut.salon)  # performs nothing

    response = _book(api, customer, haircut, colourist)

    _assert_error(response, 400, "staff_does_not_perform_service")


def test_staff_member_of_another_salon_is_unknown_here(api, now, customer, haircut):
    elsewhere = StaffFactory(services=[ServiceFactory()])

    response = _book(api, customer, haircut, elsewhere)

    _assert_error(response, 400, "unknown_staff")


def test_inactive_service_is_unknown(api, now, customer, haircut, stylist):
    haircut.is_active = False
    haircut.save()

    _assert_error(_book(api, customer, haircut, stylist), 400, "unknown_service")


def test_overlapping_booking_for_the_same_staff_member_is_a_409(api, now, customer, haircut, stylist):
    assert _book(api, customer, haircut, stylist).status_code == 201

    overlapping = _book(api, customer, haircut, stylist, start="2026-03-01T10:15:00+03:00")

    body = _assert_error(overlapping, 409, "slot_taken")
    assert "already has a booking" in body["message"]
    assert Booking.objects.count() == 1
    assert Notification.objects.count() == 2


def test_back_to_back_bookings_do_not_overlap(api, now, customer, haircut, stylist):
    assert _book(api, customer, haircut, stylist).status_code == 201

    assert _book(api, customer, haircut, stylist, start="2026-03-01T10:30:00+03:00").status_code == 201


def test_a_cancelled_booking_frees_its_slot(api, now, customer, haircut, stylist):
    first = _book(api, customer, haircut, stylist).json()
    api.as_user(customer).patch(f"/api/bookings/{first['id']}/", {"status": "cancelled"})

    assert _book(api, customer, haircut, stylist).status_code == 201


@pytest.mark.parametrize(
    ("start_status", "target", "allowed"),
    [
        ("cancelled", "confirmed", "none"),
        ("completed", "cancelled", "none"),
        ("pending", "completed", "confirmed, cancelled"),
        ("pending", "no_show", "confirmed, cancelled"),
        ("confirmed", "pending", "completed, no_show, cancelled"),
    ],
)
def test_invalid_transition_is_a_400_naming_the_allowed_next_statuses(
    api, now, stylist, haircut, customer, start_status, target, allowed
):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer, status=start_status)

    response = api.as_user(stylist).patch(f"/api/bookings/{booking.pk}/", {"status": target})

    body = _assert_error(response, 400, "invalid_transition")
    assert f"Allowed next statuses: {allowed}." in body["message"]
    booking.refresh_from_db()
    assert booking.status == start_status


def test_unknown_status_value_is_a_400(api, now, stylist, haircut, customer):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)

    response = api.as_user(stylist).patch(f"/api/bookings/{booking.pk}/", {"status": "teleported"})

    _assert_error(response, 400, "invalid")


def test_empty_patch_is_a_400(api, now, stylist, haircut, customer):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)

    _assert_error(api.as_user(stylist).patch(f"/api/bookings/{booking.pk}/", {}), 400, "invalid")


def test_missing_token_is_401(api):
    _assert_error(api.as_user(None).get("/api/bookings/"), 401, "not_authenticated")


def test_expired_token_is_401(api, customer, time_machine):
    time_machine.move_to("2026-02-28T08:00:00+03:00", tick=False)
    api.as_user(customer)
    time_machine.move_to("2026-02-28T09:00:00+03:00", tick=False)

    response = api.get("/api/bookings/")

    _assert_error(response, 401, "token_expired")
    assert "expired" in response.json()["message"] and "/api/auth/token/refresh/" in response.json()["message"]


def test_garbage_token_is_401(api, db):
    api.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    _assert_error(api.get("/api/bookings/"), 401, "token_not_valid")


def test_unknown_booking_is_404(api, customer):
    _assert_error(api.as_user(customer).get("/api/bookings/424242/"), 404, "not_found")


def test_unknown_url_is_json_404(api, db):
    response = api.get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_note_can_be_changed_by_the_customer(api, now, customer, haircut, stylist):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)

    response = api.as_user(customer).patch(f"/api/bookings/{booking.pk}/", {"note": "Running 5 min late"})

    assert response.status_code == 200
    assert response.json()["note"] == "Running 5 min late"
    assert Notification.objects.count() == 0


def test_list_is_paginated_and_filterable(api, now, haircut, stylist):
    manager = ManagerFactory(salon=haircut.salon)
    second = StaffFactory(salon=haircut.salon, services=[haircut])
    for hour in range(10, 15):
        BookingFactory(
            service=haircut,
            staff=stylist,
            start=Booking._meta.get_field("start").to_python(f"2026-03-01T{hour}:00:00+03:00"),
        )
    BookingFactory(service=haircut, staff=second, status=BookingStatus.CANCELLED)
    client = api.as_user(manager)

    page = client.get("/api/bookings/", {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"] and page["previous"] is None

    by_staff = client.get("/api/bookings/", {"staff": second.pk}).json()
    assert [b["staff"] for b in by_staff["results"]] == [second.pk]

    cancelled = client.get("/api/bookings/", {"status": "cancelled"}).json()
    assert [b["status"] for b in cancelled["results"]] == ["cancelled"]

    window = client.get(
        "/api/bookings/", {"start_from": "2026-03-01T11:00:00+03:00", "start_to": "2026-03-01T13:00:00+03:00"}
    ).json()
    assert [b["start"] for b in window["results"]] == ["2026-03-01T11:00:00+03:00", "2026-03-01T12:00:00+03:00"]


def test_a_booking_may_start_up_to_the_horizon(api, now, customer, haircut, stylist):
    # NOW is 2026-02-28 08:00 Riyadh; BOOKING_HORIZON_DAYS is 180 by default: the last day is 2026-08-27.
    response = _book(api, customer, haircut, stylist, start="2026-08-27T20:00:00+03:00")

    assert response.status_code == 201, response.content


def test_any_iso_offset_is_accepted_and_read_as_the_same_instant(api, now, customer, haircut, stylist):
    # ISO 8601 allows offsets up to ±23:59; PostgreSQL only ±15:59. 23:00+16:00 is 10:00 in Riyadh.
    response = _book(api, customer, haircut, stylist, start="2026-03-02T23:00:00+16:00")

    assert response.status_code == 201, response.content
    assert response.json()["start"] == "2026-03-02T10:00:00+03:00"
    listed = api.get("/api/bookings/", {"start_from": "2026-03-02T20:00:00+23:30", "start_to": "2026-03-03T00:00:00Z"})
    assert [b["id"] for b in listed.json()["results"]] == [response.json()["id"]]


def test_a_filter_time_out_of_range_is_a_400(api, now, customer):
    response = api.as_user(customer).get("/api/bookings/", {"start_from": "3000-01-01T00:00:00Z"})

    body = _assert_error(response, 400, "invalid")
    assert "start_from" in body["fields"]


def test_a_staff_members_list_names_who_is_coming_for_what(api, now, haircut, stylist, customer):
    BookingFactory(service=haircut, staff=stylist, customer=customer)

    (row,) = api.as_user(stylist).get("/api/bookings/").json()["results"]

    assert (row["customer_name"], row["service_name"], row["service_name_ar"]) == ("Chris", "Haircut", "قص الشعر")
    assert (row["staff_name"], row["salon_name"], row["salon_name_ar"]) == ("Sara", "Main Salon", "الصالون الرئيسي")


def test_list_makes_a_constant_number_of_queries(api, now, haircut, stylist, customer, django_assert_max_num_queries):
    for day in range(1, 20):
        BookingFactory(
            service=haircut,
            staff=stylist,
            customer=customer,
            start=Booking._meta.get_field("start").to_python(f"2026-03-{day:02d}T10:00:00+03:00"),
        )
    client = api.as_user(customer)

    # auth user + page; the next page too
    with django_assert_max_num_queries(2):
        response = client.get("/api/bookings/", {"page_size": 10})
    with django_assert_max_num_queries(2):
        following = client.get(response.json()["next"])
    assert len(response.json()["results"]) == 10 and len(following.json()["results"]) == 9


def test_reschedule_moves_the_booking_and_tells_both_with_old_and_new_time(api, now, customer, haircut, stylist):
    booking_id = _book(api, customer, haircut, stylist).json()["id"]

    moved = api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"start": "2026-03-01T15:00:00+03:00"})

    assert moved.status_code == 200, moved.json()
    assert (moved.json()["id"], moved.json()["start"], moved.json()["end"]) == (
        booking_id,
        "2026-03-01T15:00:00+03:00",
        "2026-03-01T15:30:00+03:00",
    )
    rows = Notification.objects.filter(booking_id=booking_id, event=NotificationEvent.BOOKING_RESCHEDULED)
    assert rows.count() == 2
    customer_text = rows.get(recipient=customer).message
    assert customer_text == ("Your booking for Haircut at Main Salon moved from 2026-03-01 10:00 to 2026-03-01 15:00.")

    again = api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"start": "2026-03-01T15:00:00+03:00"})
    assert again.status_code == 200
    assert rows.count() == 2

    back = api.as_user(customer).patch(f"/api/bookings/{booking_id}/", {"start": "2026-03-01T10:00:00+03:00"})
    assert back.status_code == 200
    assert rows.count() == 4


def test_reschedule_into_a_taken_slot_is_a_409(api, now, customer, haircut, stylist):
    _book(api, customer, haircut, stylist)
    second = _book(api, customer, haircut, stylist, start="2026-03-01T12:00:00+03:00").json()

    response = api.as_user(customer).patch(f"/api/bookings/{second['id']}/", {"start": "2026-03-01T10:15:00+03:00"})

    _assert_error(response, 409, "slot_taken")
    assert Booking.objects.get(pk=second["id"]).start.isoformat() == "2026-03-01T09:00:00+00:00"


def test_split_shift_refuses_its_gap(api, now, customer, haircut):
    split = StaffFactory(salon=haircut.salon, services=[haircut], hours=[(time(9), time(12)), (time(16), time(21))])

    _assert_error(_book(api, customer, haircut, split, start="2026-03-01T13:00:00+03:00"), 400, "outside_working_hours")
    assert _book(api, customer, haircut, split, start="2026-03-01T16:00:00+03:00").status_code == 201


def test_booking_creation_makes_a_fixed_number_of_queries(api, now, customer, haircut, stylist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.as_user(customer)
    # Delivery runs after commit (elsewhere); this counts the request's own queries.
    with CaptureQueriesContext(connection) as queries:
        response = api.client.post(
            "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": START}, format="json"
        )

    assert response.status_code == 201
    # user (token), begin (a savepoint here), service + salon + settings + staff
    # (who performs it, locked), the staff member's day (hours, bookings, time off,
    # closure: one UNION), the booking, both notifications (one INSERT), commit.
    # It was 20 before issue #13.
    assert len(queries) == 7, "\n".join(q["sql"] for q in queries)


@pytest.mark.parametrize(
    "path",
    [
        "/api/staff/?service=99999999999999999999999",
        "/api/services/?salon=99999999999999999999999",
        "/api/bookings/?staff=99999999999999999999999",
        "/api/availability/?salon=1&service=99999999999999999999999&date=2026-03-01",
    ],
)
def test_absurdly_large_ids_are_400_not_500(api, customer, path):
    response = api.as_user(customer).get(path)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_absurdly_large_ids_in_a_body_are_400(api, now, customer, haircut):
    response = api.as_user(customer).post("/api/bookings/", {"service": 10**30, "staff": 10**30, "start": START})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"service", "staff"}


def test_the_written_out_booking_answer_is_what_drf_would_render(api, now, haircut, stylist, customer):
    from rest_framework import serializers

    from apps.bookings.serializers import BookingSerializer

    booking = BookingFactory(service=haircut, staff=stylist, customer=customer, note="Short, please")
    Booking.objects.filter(pk=booking.pk).update(customer_confirmed_at=booking.start - timedelta(hours=3))
    booking = Booking.objects.select_related("salon", "service", "customer", "staff").get(pk=booking.pk)

    drf = serializers.ModelSerializer.to_representation(BookingSerializer(), booking)
    tz = booking.salon.tz
    drf["start"], drf["end"] = booking.start.astimezone(tz).isoformat(), booking.end.astimezone(tz).isoformat()

    assert BookingSerializer(booking).data == drf
    # The list renders plain rows through the same function: the same answer.
    listed = api.as_user(customer).get("/api/bookings/").json()["results"]
    assert listed == [drf]
