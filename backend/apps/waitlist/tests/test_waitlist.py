"""The waiting list through the API and the outbox: joining, leaving, offers when a
time is freed (cancelled, declined, moved away, time off removed), claims (the
first wins), expiry, quiet hours, the SMS link's page, and who may do what.

The clock is the suite's (Saturday 2026-02-28 08:00 in Riyadh); the console
provider sends SMS (its rows say what went out).
"""

import re
from datetime import datetime, time, timedelta

import pytest

from apps.bookings.models import Booking
from apps.common.tests.factories import RIYADH, ManagerFactory, ServiceFactory, StaffFactory, UserFactory
from apps.notifications.links import link_token, read_link_token
from apps.notifications.models import Notification, NotificationStatus, SkipReason
from apps.notifications.replies import offer_token, read_reply_token, reply_token
from apps.waitlist.models import WaitlistEntry, WaitlistOffer, WaitlistStatus
from apps.waitlist.services import waitlist_expire_scan

pytestmark = pytest.mark.django_db

TEN = "2026-03-01T10:00:00+03:00"


def _join(api, person, service, *, date="2026-03-01", start="09:00", end="12:00", **extra):
    body = {"service": service.pk, "date": date, "window_start": start, "window_end": end, **extra}
    return api.as_user(person).post("/api/waitlist/", body)


def _book(api, person, service, staff, start=TEN) -> Booking:
    response = api.as_user(person).post("/api/bookings/", {"service": service.pk, "staff": staff.pk, "start": start})
    assert response.status_code == 201, response.json()
    return Booking.objects.get(pk=response.json()["id"])


def _offers_to(person):
    return Notification.objects.filter(recipient=person, event="waitlist_offer").order_by("id")


@pytest.fixture
def booked(api, now, haircut, stylist, customer):
    """Sara's 10:00 tomorrow is booked by Chris."""
    return _book(api, customer, haircut, stylist)


@pytest.fixture
def waiting(api, now, haircut):
    """Three customers wait for a Haircut tomorrow between 09:00 and 12:00, in this order."""
    people = [UserFactory(name=f"Waiting {i}", preferred_language=lang) for i, lang in enumerate(["en", "ar", "en"])]
    for person in people:
        assert _join(api, person, haircut).status_code == 201
    return people


# --- joining, reading, leaving ----------------------------------------------------------------
def test_a_customer_joins_and_reads_their_entry_and_a_manager_sees_the_salons(api, now, haircut, stylist, customer):
    response = _join(api, customer, haircut, staff=stylist.pk)
    manager = ManagerFactory(salon=haircut.salon)
    elsewhere = ManagerFactory(salon=ServiceFactory().salon)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("service", "staff", "staff_name", "date", "window_start", "window_end", "status")} == {
        "service": haircut.pk,
        "staff": stylist.pk,
        "staff_name": "Sara",
        "date": "2026-03-01",
        "window_start": "09:00",
        "window_end": "12:00",
        "status": "waiting",
    }
    assert [e["id"] for e in api.as_user(customer).get("/api/waitlist/").json()["results"]] == [body["id"]]
    assert [e["id"] for e in api.as_user(manager).get("/api/waitlist/").json()["results"]] == [body["id"]]
    assert api.as_user(elsewhere).get("/api/waitlist/").json()["results"] == []
    assert api.as_user(UserFactory()).get(f"/api/waitlist/{body['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"date": "2026-02-27"}, 400, "waitlist_day_not_bookable"),
        ({"date": "2027-12-01"}, 400, "waitlist_day_not_bookable"),
        ({"start": "12:00", "end": "09:00"}, 400, "waitlist_bad_window"),
        ({"start": "12:00", "end": "12:00"}, 400, "waitlist_bad_window"),
        ({"service": 10**6}, 400, "unknown_service"),
        ({"service": 10**30}, 400, "invalid"),
        ({"date": "tomorrow"}, 400, "invalid"),
        ({"start": "25:00"}, 400, "invalid"),
    ],
)
def test_a_bad_entry_is_a_clear_400(api, now, haircut, customer, overrides, status, code):
    service = overrides.pop("service", None)
    body = {"service": service if service is not None else haircut.pk}
    body["date"] = overrides.get("date", "2026-03-01")
    body |= {"window_start": overrides.get("start", "09:00"), "window_end": overrides.get("end", "12:00")}

    response = api.as_user(customer).post("/api/waitlist/", body)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_staff_member_who_does_not_perform_the_service_is_refused(api, now, haircut, customer):
    other = StaffFactory(salon=haircut.salon)

    response = _join(api, customer, haircut, staff=other.pk)

    assert (response.status_code, response.json()["code"]) == (400, "staff_does_not_perform_service")


def test_only_customers_join_and_at_most_ten_entries_wait_at_once(api, now, haircut, stylist, customer, settings):
    settings.WAITLIST_ENTRIES_PER_CUSTOMER = 2
    manager = ManagerFactory(salon=haircut.salon)

    assert _join(api, stylist, haircut).json()["code"] == "waitlist_customers_only"
    assert _join(api, manager, haircut).status_code == 403
    assert [_join(api, customer, haircut).status_code for _ in range(3)] == [201, 201, 409]
    assert WaitlistEntry.objects.filter(customer=customer).count() == 2


def test_leaving_the_list_and_leaving_again(api, now, haircut, customer):
    entry = _join(api, customer, haircut).json()

    first = api.as_user(customer).delete(f"/api/waitlist/{entry['id']}/")
    again = api.as_user(customer).delete(f"/api/waitlist/{entry['id']}/")

    assert (first.status_code, again.status_code) == (204, 204)
    assert WaitlistEntry.objects.get(pk=entry["id"]).status == WaitlistStatus.CANCELLED
    assert api.as_user(customer).delete("/api/waitlist/abc/").status_code == 404
    assert api.as_user(customer).delete("/api/waitlist/99999999999999999999/").status_code == 404


# --- offers -----------------------------------------------------------------------------------
def test_a_cancellation_offers_the_time_to_everyone_it_fits_in_the_order_they_joined(
    api, now, booked, waiting, customer, settings
):
    settings.PUBLIC_BASE_URL = "https://api.salon.example"
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})

    rows = list(Notification.objects.filter(event="waitlist_offer").order_by("id"))
    assert [row.recipient for row in rows] == waiting  # in the order they joined
    assert {(row.channel, row.status, row.message_class) for row in rows} == {("sms", "sent", "service")}
    english = rows[0].message
    assert english.startswith("A place opened: Haircut at Main Salon, 2026-03-01 10:00. Book within 15 min: ")
    link = re.search(r"https://api\.salon\.example/w/(\S+)$", english).group(1)
    assert read_link_token("waitlist-offer", link) == rows[0].waitlist_offer_id
    assert rows[1].message.startswith("تفرّغ موعد في الصالون الرئيسي، 2026-03-01 10:00.")  # Arabic, her language
    assert {row.booking_id for row in rows} == {booked.pk}  # filed under the freed booking
    offers = WaitlistOffer.objects.order_by("id")
    assert [o.expires_at - o.valid_from for o in offers] == [timedelta(minutes=15)] * 3
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.OFFERED}


def test_the_first_claim_wins_and_the_others_are_told_and_stay_on_the_list(api, now, booked, waiting, customer):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    entries = list(WaitlistEntry.objects.order_by("created_at"))

    first = api.as_user(waiting[1]).post(f"/api/waitlist/{entries[1].pk}/claim/", {"start": TEN})
    second = api.as_user(waiting[0]).post(f"/api/waitlist/{entries[0].pk}/claim/", {"start": TEN})

    assert first.status_code == 201, first.json()
    assert (first.json()["customer"], first.json()["start"]) == (waiting[1].pk, TEN)
    assert (second.status_code, second.json()["code"]) == (409, "slot_taken")
    statuses = dict(WaitlistEntry.objects.values_list("customer_id", "status"))
    assert statuses == {waiting[0].pk: "waiting", waiting[1].pk: "booked", waiting[2].pk: "waiting"}
    assert Booking.objects.filter(start=booked.start, status__in=["pending", "confirmed"]).count() == 1
    assert WaitlistEntry.objects.get(pk=entries[1].pk).booking_id == first.json()["id"]
    # The booking's own messages went out as for any booking.
    assert Notification.objects.filter(booking_id=first.json()["id"], event="booking_created").count() == 2


def test_a_claim_needs_an_offered_time_and_the_entrys_own_customer(api, now, booked, waiting, customer, haircut):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    entry = WaitlistEntry.objects.get(customer=waiting[0])
    manager = ManagerFactory(salon=haircut.salon)

    not_offered = api.as_user(waiting[0]).post(f"/api/waitlist/{entry.pk}/claim/", {"start": "2026-03-01T11:00"})
    by_manager = api.as_user(manager).post(f"/api/waitlist/{entry.pk}/claim/", {"start": TEN})
    by_stranger = api.as_user(waiting[1]).post(f"/api/waitlist/{entry.pk}/claim/", {"start": TEN})
    naive_local = api.as_user(waiting[0]).post(f"/api/waitlist/{entry.pk}/claim/", {"start": "2026-03-01T10:00"})

    assert (not_offered.status_code, not_offered.json()["code"]) == (400, "waitlist_no_such_offer")
    assert (by_manager.status_code, by_manager.json()["code"]) == (403, "waitlist_not_yours")
    assert by_stranger.status_code == 404
    assert naive_local.status_code == 201  # a start without an offset is salon time


def test_a_time_that_does_not_fit_is_not_offered(api, now, haircut, stylist, customer):
    long_service = ServiceFactory(salon=haircut.salon, name="Colour", duration_minutes=90)
    stylist_b = StaffFactory(salon=haircut.salon, services=[haircut])
    stylist.services_performed.add(long_service)
    booked = _book(api, customer, haircut, stylist)
    fits = UserFactory()
    assert _join(api, fits, haircut, staff=stylist.pk).status_code == 201
    assert _join(api, UserFactory(), haircut, start="11:00", end="13:00").status_code == 201  # window later
    assert _join(api, UserFactory(), haircut, staff=stylist_b.pk).status_code == 201  # someone else's chair
    assert _join(api, UserFactory(), long_service).status_code == 201  # 90 min: 10:30 is taken below
    assert _join(api, UserFactory(), haircut, date="2026-03-02").status_code == 201  # another day
    assert _join(api, customer, haircut).status_code == 201  # the one who cancels
    _book(api, UserFactory(), haircut, stylist, start="2026-03-01T10:30:00+03:00")

    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})

    assert list(Notification.objects.filter(event="waitlist_offer").values_list("recipient", flat=True)) == [fits.pk]


def test_a_decline_and_a_move_away_free_the_time_too(api, now, booked, waiting, customer, stylist):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"start": "2026-03-01T15:00:00+03:00"})

    moved = set(WaitlistOffer.objects.values_list("entry__customer", "start"))
    assert moved == {(person.pk, booked.start) for person in waiting}  # the old start
    now.shift(timedelta(minutes=16))
    waitlist_expire_scan()

    second = _book(api, UserFactory(), booked.service, stylist, start="2026-03-01T11:00:00+03:00")
    api.as_user(stylist).patch(f"/api/bookings/{second.pk}/", {"status": "cancelled"})  # declined

    assert WaitlistOffer.objects.filter(freed_booking=second).count() == 3


def test_an_offer_expires_after_its_minutes_and_the_entry_waits_again(api, now, booked, waiting, customer):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    entry = WaitlistEntry.objects.get(customer=waiting[0])

    now.shift(timedelta(minutes=14))
    assert waitlist_expire_scan().back_to_waiting == 0
    now.shift(timedelta(minutes=1, seconds=1))
    result = waitlist_expire_scan()
    late = api.as_user(waiting[0]).post(f"/api/waitlist/{entry.pk}/claim/", {"start": TEN})

    assert result.back_to_waiting == 3
    assert (late.status_code, late.json()["code"]) == (409, "waitlist_offer_expired")
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.WAITING}


def test_entries_expire_at_the_end_of_their_day_in_salon_time(api, now, haircut, customer):
    entry = _join(api, customer, haircut, date="2026-02-28", start="18:00", end="20:00").json()

    now.move_to(datetime(2026, 2, 28, 23, 59, tzinfo=RIYADH))
    assert waitlist_expire_scan().expired == 0
    now.move_to(datetime(2026, 3, 1, 0, 0, tzinfo=RIYADH))
    assert waitlist_expire_scan().expired == 1
    assert api.as_user(customer).get(f"/api/waitlist/{entry['id']}/").json()["status"] == "expired"


def test_a_time_freed_in_quiet_hours_is_offered_when_they_end(
    api, now, haircut, stylist, customer, django_capture_on_commit_callbacks
):
    booked = _book(api, customer, haircut, stylist, start="2026-03-01T11:00:00+03:00")
    person = UserFactory()
    assert _join(api, person, haircut).status_code == 201
    now.move_to(datetime(2026, 2, 28, 23, 30, tzinfo=RIYADH))

    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})

    offer = WaitlistOffer.objects.get()
    assert offer.valid_from == datetime(2026, 3, 1, 8, 0, tzinfo=RIYADH)
    assert offer.expires_at == datetime(2026, 3, 1, 8, 15, tzinfo=RIYADH)
    row = _offers_to(person).get()
    assert (row.status, row.claimed_until) == (NotificationStatus.PENDING, offer.valid_from)  # held, not sent
    entry = WaitlistEntry.objects.get(customer=person)
    early = api.as_user(person).post(f"/api/waitlist/{entry.pk}/claim/", {"start": "2026-03-01T11:00:00+03:00"})
    assert (early.status_code, early.json()["code"]) == (409, "waitlist_offer_not_yet_valid")


def test_an_offer_whose_time_was_booked_meanwhile_is_not_sent(api, now, haircut, stylist, customer):
    from apps.notifications.delivery.sending import notification_deliver

    booked = _book(api, customer, haircut, stylist, start="2026-03-01T11:00:00+03:00")
    person = UserFactory()
    _join(api, person, haircut)
    now.move_to(datetime(2026, 2, 28, 23, 30, tzinfo=RIYADH))
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    now.move_to(datetime(2026, 3, 1, 7, 0, tzinfo=RIYADH))
    _book(api, UserFactory(), haircut, stylist, start="2026-03-01T11:00:00+03:00")  # booked directly
    now.move_to(datetime(2026, 3, 1, 8, 0, 1, tzinfo=RIYADH))

    row = _offers_to(person).get()
    notification_deliver(notification_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.OFFER_CLOSED)


def test_a_closed_day_offers_nothing(api, now, booked, waiting, customer):
    from apps.salons.models import SalonClosure

    SalonClosure.objects.create(salon=booked.salon, start_date=booked.start.date(), end_date=booked.start.date())

    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})

    assert not WaitlistOffer.objects.exists()


# --- the SMS link ------------------------------------------------------------------------------
def test_the_sms_link_shows_the_offer_in_the_customers_language_and_books_it(
    api, client, now, booked, waiting, customer, settings
):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    arabic = WaitlistOffer.objects.get(entry__customer=waiting[1])
    path = f"/w/{link_token('waitlist-offer', arabic.pk)}"

    page = client.get(path)
    booked_page = client.post(path)
    again = client.post(path)

    assert page.status_code == 200 and 'lang="ar"' in page.content.decode() and "احجزه" in page.content.decode()
    assert 'id="booked"' in booked_page.content.decode()
    assert 'id="closed"' in again.content.decode() or 'id="refused"' in again.content.decode()
    assert Booking.objects.get(customer=waiting[1]).start == booked.start
    english = WaitlistOffer.objects.get(entry__customer=waiting[0])
    taken = client.post(f"/w/{link_token('waitlist-offer', english.pk)}")
    assert 'data-code="slot_taken"' in taken.content.decode()


@pytest.mark.parametrize("token", ["x", "1abcdefghij", "zzzzzzzzzzzzzzzzzzzzzzzzz", "1" + "A" * 10])
def test_a_bad_offer_link_is_a_404(client, db, token):
    assert client.get(f"/w/{token}").status_code == 404


def test_a_disruption_link_does_not_open_an_offer(api, client, now, booked, waiting, customer):
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    offer = WaitlistOffer.objects.first()

    assert client.get(f"/w/{link_token('disruption', offer.pk)}").status_code == 404


# --- tokens -------------------------------------------------------------------------------------
def test_old_reply_tokens_still_read_and_new_ones_carry_their_fields(api, now, booked, waiting, customer):
    old = reply_token(booking=booked, recipient_id=customer.pk, action="cancel")
    api.as_user(customer).patch(f"/api/bookings/{booked.pk}/", {"status": "cancelled"})
    offer = WaitlistOffer.objects.first()

    read_old, read_new = read_reply_token(old), read_reply_token(offer_token(offer=offer, recipient_id=waiting[0].pk))

    assert (read_old.action, read_old.offer_id, read_old.start) == ("cancel", None, None)
    assert (read_new.action, read_new.booking_id, read_new.offer_id) == ("book", booked.pk, offer.pk)
    assert read_new.expires_at == offer.expires_at
    assert len(offer_token(offer=offer, recipient_id=waiting[0].pk)) <= 128


# --- the admin ------------------------------------------------------------------------------------
def test_removing_time_off_in_the_admin_offers_the_freed_time(client, now, api, haircut, stylist, customer):
    from apps.common.tests.admin_fixtures import managers_group
    from apps.salons.models import StaffTimeOff

    manager = ManagerFactory(salon=haircut.salon, is_staff=True)
    manager.groups.add(managers_group())
    _book(api, customer, haircut, stylist, start="2026-03-01T09:00:00+03:00")
    off = StaffTimeOff.objects.create(
        staff=stylist,
        start=datetime(2026, 3, 1, 10, 0, tzinfo=RIYADH),
        end=datetime(2026, 3, 1, 12, 0, tzinfo=RIYADH),
    )
    person = UserFactory()
    assert _join(api, person, haircut, staff=stylist.pk, start="10:00", end="12:00").status_code == 201
    client.force_login(manager)

    response = client.post(f"/admin/salons/stafftimeoff/{off.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    offer = WaitlistOffer.objects.get()
    assert (offer.entry.customer, offer.start) == (person, datetime(2026, 3, 1, 10, 0, tzinfo=RIYADH))
    assert _offers_to(person).count() == 1


def test_the_admin_lists_the_salons_entries_in_salon_time_and_takes_them_off(client, now, api, haircut, customer):
    from apps.common.tests.admin_fixtures import managers_group

    manager = ManagerFactory(salon=haircut.salon, is_staff=True, preferred_language="ar")
    manager.groups.add(managers_group())
    entry = _join(api, customer, haircut).json()
    client.force_login(manager)

    listing = client.get("/admin/waitlist/waitlistentry/").content.decode()
    action = client.post(
        "/admin/waitlist/waitlistentry/", {"action": "cancel_entries", "_selected_action": [entry["id"]]}
    )

    assert 'dir="rtl"' in listing and "قائمة الانتظار" in listing and "09:00-12:00" in listing
    assert action.status_code == 302
    assert WaitlistEntry.objects.get(pk=entry["id"]).status == WaitlistStatus.CANCELLED


def test_time_fields_of_an_entry_are_salon_local(api, now, haircut, customer):
    entry = _join(api, customer, haircut, start="09:30", end="11:45").json()

    stored = WaitlistEntry.objects.get(pk=entry["id"])

    assert (stored.window_start, stored.window_end) == (time(9, 30), time(11, 45))
