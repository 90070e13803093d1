"""SPEC.md section 4's permission table, every cell, through the HTTP API.

| action            | customer                   | staff                      | manager          |
| create            | for themselves             | no                         | their salon's    |
| list / retrieve   | their own                  | assigned to them           | their salon's    |
| confirm           | no                         | their own                  | their salon's    |
| cancel            | their own, before it starts| their own                  | their salon's    |
| complete/no-show  | no                         | their own, after it starts | their salon's    |

A booking a user may not see is a 404 for every method; DELETE is a 405.
"""

import pytest

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import BookingFactory, ManagerFactory, ServiceFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

START = "2026-03-01T10:00:00+03:00"
AFTER_START = "2026-03-01T10:10:00+03:00"

ACTORS = [
    "customer",  # the booking's customer
    "other_customer",
    "staff",  # the booking's staff member
    "other_staff",  # another staff member of the same salon
    "foreign_staff",  # a staff member of another salon
    "manager",  # manager of the booking's salon
    "foreign_manager",  # manager of another salon
]


@pytest.fixture
def people(haircut, stylist, customer):
    other_salon_service = ServiceFactory()
    return {
        "customer": customer,
        "other_customer": UserFactory(),
        "staff": stylist,
        "other_staff": StaffFactory(salon=haircut.salon, services=[haircut]),
        "foreign_staff": StaffFactory(salon=other_salon_service.salon, services=[other_salon_service]),
        "manager": ManagerFactory(salon=haircut.salon),
        "foreign_manager": ManagerFactory(salon=other_salon_service.salon),
    }


@pytest.fixture
def booking(now, haircut, stylist, customer):
    return BookingFactory(
        service=haircut, customer=customer, staff=stylist, start=Booking._meta.get_field("start").to_python(START)
    )


VISIBLE_TO = {"customer", "staff", "manager"}


@pytest.mark.parametrize("actor", ACTORS)
def test_retrieve_only_what_you_may_see_others_are_404(api, people, booking, actor):
    response = api.as_user(people[actor]).get(f"/api/bookings/{booking.pk}/")

    expected = 200 if actor in VISIBLE_TO else 404
    assert response.status_code == expected, response.json()
    if expected == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("actor", ACTORS)
def test_list_shows_only_what_you_may_see(api, people, booking, actor):
    response = api.as_user(people[actor]).get("/api/bookings/")

    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    assert ids == ([booking.pk] if actor in VISIBLE_TO else [])


CREATE_EXPECTED = {
    "customer": 201,
    "other_customer": 201,
    "staff": 403,
    "other_staff": 403,
    "foreign_staff": 403,
    "manager": 201,
    "foreign_manager": 403,
}


@pytest.mark.parametrize("actor", ACTORS)
def test_create(api, now, people, haircut, stylist, actor):
    body = {"service": haircut.pk, "staff": stylist.pk, "start": START}
    if actor.endswith("manager"):
        body["customer"] = people["customer"].pk

    response = api.as_user(people[actor]).post("/api/bookings/", body)

    assert response.status_code == CREATE_EXPECTED[actor], response.json()
    assert Booking.objects.count() == (1 if CREATE_EXPECTED[actor] == 201 else 0)
    if response.status_code == 201:
        expected_customer = people["customer"] if actor.endswith("manager") else people[actor]
        assert response.json()["customer"] == expected_customer.pk


def test_customer_cannot_book_for_someone_else(api, now, people, haircut, stylist):
    response = api.as_user(people["customer"]).post(
        "/api/bookings/",
        {"service": haircut.pk, "staff": stylist.pk, "start": START, "customer": people["other_customer"].pk},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "action_not_allowed"
    assert Booking.objects.count() == 0


# (actor, target status, moment) -> expected HTTP status. Moments: "before" the
# booking starts, "after" it started. The booking is confirmed first when the
# transition needs it.
# Others' bookings are 404; the booking's own people and its salon's manager see it.
_OTHERS_404 = {"other_customer": 404, "other_staff": 404, "foreign_staff": 404, "foreign_manager": 404}
STAFF_OR_MANAGER = {**_OTHERS_404, "customer": 403, "staff": 200, "manager": 200}
TRANSITIONS = {
    "confirmed": STAFF_OR_MANAGER,
    "cancelled": {**_OTHERS_404, "customer": 200, "staff": 200, "manager": 200},
    "completed": STAFF_OR_MANAGER,
    "no_show": STAFF_OR_MANAGER,
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", list(TRANSITIONS))
def test_status_changes(api, people, booking, actor, target, time_machine):
    if target in ("completed", "no_show"):
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)
        time_machine.move_to(AFTER_START, tick=False)

    response = api.as_user(people[actor]).patch(f"/api/bookings/{booking.pk}/", {"status": target})

    expected = TRANSITIONS[target][actor]
    assert response.status_code == expected, response.json()
    booking.refresh_from_db()
    if expected == 200:
        assert booking.status == target
    else:
        assert booking.status != target


def test_customer_cannot_cancel_after_the_booking_started(api, people, booking, time_machine):
    time_machine.move_to(AFTER_START, tick=False)

    response = api.as_user(people["customer"]).patch(f"/api/bookings/{booking.pk}/", {"status": "cancelled"})

    assert response.status_code == 400
    assert response.json()["code"] == "booking_already_started"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


@pytest.mark.parametrize("actor", ["staff", "manager"])
def test_staff_and_manager_can_cancel_after_start(api, people, booking, actor, time_machine):
    time_machine.move_to(AFTER_START, tick=False)

    response = api.as_user(people[actor]).patch(f"/api/bookings/{booking.pk}/", {"status": "cancelled"})

    assert response.status_code == 200


@pytest.mark.parametrize("target", ["completed", "no_show"])
def test_staff_cannot_complete_before_the_booking_starts(api, people, booking, target):
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)

    response = api.as_user(people["staff"]).patch(f"/api/bookings/{booking.pk}/", {"status": target})

    assert response.status_code == 400
    assert response.json()["code"] == "booking_not_started"


@pytest.mark.parametrize("actor", [*ACTORS, None])
def test_delete_and_put_are_405_for_everyone(api, people, booking, actor):
    client = api.as_user(people[actor] if actor else None)

    deleted = client.delete(f"/api/bookings/{booking.pk}/")
    put = client.put(f"/api/bookings/{booking.pk}/", {"status": "cancelled"})

    assert deleted.status_code == 405
    assert deleted.json()["code"] == "method_not_allowed"
    assert put.status_code == 405
    assert Booking.objects.filter(pk=booking.pk, status=BookingStatus.PENDING).exists()


@pytest.mark.parametrize("method", ["get", "patch"])
def test_anonymous_gets_401(api, booking, method):
    response = getattr(api.as_user(None), method)(f"/api/bookings/{booking.pk}/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_other_customers_patch_is_404_and_changes_nothing(api, people, booking):
    response = api.as_user(people["other_customer"]).patch(
        f"/api/bookings/{booking.pk}/", {"status": "cancelled", "note": "hijack"}
    )

    assert response.status_code == 404
    booking.refresh_from_db()
    assert (booking.status, booking.note) == (BookingStatus.PENDING, "")
