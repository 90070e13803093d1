"""The front desk in the admin, page by page: the day by staff member, booking,
moving and cancelling from it, who may do what, refusals in the person's
language, the booking list's day, and the message settings opening on the values
in force."""

from datetime import date, datetime, time

import pytest
from django.contrib.messages import get_messages

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.admin_fixtures import salon_world
from apps.common.tests.factories import RIYADH, BookingFactory, StaffFactory, UserFactory
from apps.notifications.models import Notification, SalonNotificationSettings
from apps.salons.models import SalonClosure, StaffTimeOff

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 1)  # tomorrow (the suite's clock: 2026-02-28 08:00 Riyadh)
DAY_URL = "/admin/bookings/booking/day/"
BOOK_URL = "/admin/bookings/booking/desk/book/"


def _at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=RIYADH)


@pytest.fixture
def alpha(now):
    world = salon_world("Alpha", phone_prefix="+9665411000")
    world.other_staff = StaffFactory(salon=world.salon, services=[world.service], name="Huda", phone="+966541100009")
    return world


@pytest.fixture
def beta(now):
    return salon_world("Beta", phone_prefix="+9665422000")


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- the day ---------------------------------------------------------------------------
def test_the_day_has_a_column_per_staff_member_with_bookings_time_off_and_free_time(client, alpha):
    BookingFactory(service=alpha.service, staff=alpha.other_staff, customer=UserFactory(name="Noura"), start=_at(11))
    cancelled = BookingFactory(
        service=alpha.service, staff=alpha.staff, customer=UserFactory(name="Gone"), start=_at(12), status="cancelled"
    )
    StaffTimeOff.objects.create(staff=alpha.other_staff, start=_at(14), end=_at(15), reason="Dentist")
    client.force_login(alpha.manager)

    sheet = client.get(DAY_URL, {"date": DAY.isoformat()}).context["sheet"]
    with_cancelled = client.get(DAY_URL, {"date": DAY.isoformat(), "cancelled": "1"}).context["sheet"]

    columns = {column.staff.name: column for column in sheet.columns}
    assert list(columns) == ["Huda", "Stylist Alpha"]  # the manager performs nothing: no column
    stylist = [(b.kind, b.times) for b in columns["Stylist Alpha"].blocks]
    assert ("booking", "10:00–10:30") in stylist and ("free", "09:00–10:00") in stylist
    assert ("free", "10:30–21:00") in stylist and not any(b.booking == cancelled for b in sheet.columns[1].blocks)
    huda = [(b.kind, b.times, b.label) for b in columns["Huda"].blocks]
    assert ("time_off", "14:00–15:00", "Dentist") in huda and ("free", "15:00–21:00", "") in huda
    assert sheet.cancelled_hidden == 1
    assert any(b.booking == cancelled for b in with_cancelled.columns[1].blocks)


def test_a_closure_shades_the_day_and_leaves_no_free_time(client, alpha):
    client.force_login(alpha.manager)

    page = client.get(DAY_URL, {"date": "2026-03-31"})  # the world's Eid closure

    assert page.context["sheet"].closure == alpha.closure
    assert "The salon is closed this day." in page.content.decode()
    assert not [b for column in page.context["sheet"].columns for b in column.blocks if b.kind == "free"]


def test_the_day_is_today_in_salon_time_and_walks_day_by_day(client, alpha, time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 1, 30, tzinfo=RIYADH), tick=False)  # 22:30 UTC on the 28th
    client.force_login(alpha.manager)

    page = client.get(DAY_URL)

    assert page.context["sheet"].day == date(2026, 3, 1)  # 01:30 on the 1st in Riyadh
    assert page.context["previous_url"].endswith("?date=2026-02-28")
    assert page.context["next_url"].endswith("?date=2026-03-02")
    assert client.get(DAY_URL, {"date": "not-a-date"}).status_code == 200


def test_the_day_takes_a_bounded_number_of_queries(client, alpha, django_assert_max_num_queries):
    for hour in range(9, 20):
        BookingFactory(service=alpha.service, staff=alpha.other_staff, customer=UserFactory(), start=_at(hour))
    client.force_login(alpha.manager)

    with django_assert_max_num_queries(14):
        assert client.get(DAY_URL, {"date": DAY.isoformat()}).status_code == 200


# --- who may do what ---------------------------------------------------------------------
@pytest.fixture
def staff_at_the_desk(alpha):
    alpha.staff.is_staff = True
    alpha.staff.set_password("pw-for-tests-only")
    alpha.staff.save()
    return alpha.staff


def test_a_staff_member_sees_their_own_column_read_only(client, alpha, staff_at_the_desk):
    others = BookingFactory(service=alpha.service, staff=alpha.other_staff, customer=UserFactory(), start=_at(11))
    client.force_login(staff_at_the_desk)

    page = client.get(DAY_URL, {"date": DAY.isoformat()})

    assert [column.staff for column in page.context["sheet"].columns] == [staff_at_the_desk]
    assert "block-move" not in page.content.decode() and "day-book" not in page.content.decode()
    for booking in (alpha.booking, others):  # their own and a colleague's
        for action in ("move", "cancel"):
            url = f"/admin/bookings/booking/{booking.pk}/{action}/"
            assert client.get(url).status_code == 403
            assert client.post(url, {"reason": "duplicate", "_move": "1"}).status_code == 403
    assert client.post(BOOK_URL, {"_book": "1"}).status_code == 403
    assert Booking.objects.filter(status=BookingStatus.CANCELLED).count() == 0


def test_the_staff_member_and_the_manager_see_the_channel_each_booking_message_used(client, alpha, staff_at_the_desk):
    from apps.common.tests.factories import NotificationFactory

    booking = alpha.booking
    NotificationFactory(booking=booking, recipient=booking.customer, channel="whatsapp", status="failed")
    NotificationFactory(
        booking=booking, recipient=booking.customer, channel="sms", status="sent", event="booking_confirmed",
        reroute="whatsapp_failed",
    )  # fmt: skip
    day = booking.start.astimezone(RIYADH).date().isoformat()

    for person in (staff_at_the_desk, alpha.manager):
        client.force_login(person)
        page = client.get(DAY_URL, {"date": day}, HTTP_ACCEPT_LANGUAGE="en")
        blocks = [b for column in page.context["sheet"].columns for b in column.blocks if b.booking == booking]
        assert [b.messages for b in blocks] == ["SMS (WhatsApp failed)"], person
        assert "Messages by SMS (WhatsApp failed)" in page.content.decode()


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_without_admin_access_the_desk_is_the_login_page(client, alpha, who):
    client.force_login(getattr(alpha, who))

    for url in (DAY_URL, BOOK_URL, f"/admin/bookings/booking/{alpha.booking.pk}/cancel/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_another_salons_manager_reaches_nothing(client, alpha, beta, django_capture_on_commit_callbacks):
    client.force_login(beta.manager)

    day = client.get(DAY_URL, {"date": DAY.isoformat()}).context["sheet"]
    assert day.salon == beta.salon
    assert all(b.booking != alpha.booking for column in day.columns for b in column.blocks)
    for action in ("move", "cancel"):
        url = f"/admin/bookings/booking/{alpha.booking.pk}/{action}/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "duplicate"}).status_code == 404
    slot = f"{alpha.staff.pk}@{_at(11).isoformat()}"
    with django_capture_on_commit_callbacks(execute=True):
        booked = client.post(
            BOOK_URL,
            {"date": DAY.isoformat(), "service": alpha.service.pk, "slot": slot, "phone": "0551234567", "_book": "1"},
        )
    assert booked.status_code == 200 and "service" in booked.context["form"].errors
    assert Booking.objects.count() == 2 and Booking.objects.get(pk=alpha.booking.pk).status == "pending"


# --- book, move, cancel ---------------------------------------------------------------------
def _book(client, alpha, slot: str, phone: str = "0551234567", **extra):
    data = {"date": DAY.isoformat(), "service": alpha.service.pk, "slot": slot, "phone": phone, "_book": "1"}
    return client.post(BOOK_URL, {**data, **extra})


def test_the_desk_offers_only_free_starts_and_books_a_new_phone(client, alpha, django_capture_on_commit_callbacks):
    client.force_login(alpha.manager)
    offered = client.post(BOOK_URL, {"date": DAY.isoformat(), "service": alpha.service.pk, "_refresh": "1"})
    choices = dict(offered.context["form"].fields["slot"].choices)
    taken = f"{alpha.staff.pk}@{_at(10).isoformat()}"
    free = f"{alpha.staff.pk}@{_at(11).isoformat()}"
    assert taken not in choices and free in choices and choices[free] == "11:00 · Stylist Alpha"

    refused = _book(client, alpha, f"{alpha.staff.pk}@{_at(10, 5).isoformat()}")  # not one of the offered starts
    with django_capture_on_commit_callbacks(execute=True):
        booked = _book(client, alpha, free, phone="+966 55 123 4567", name="Wafa", language="en")

    assert refused.status_code == 200 and "slot" in refused.context["form"].errors
    assert booked.status_code == 302 and booked["Location"].endswith("?date=2026-03-01")
    wafa = User.objects.get(phone="+966551234567")
    booking = Booking.objects.get(customer=wafa)
    assert (booking.staff, booking.start, wafa.name, wafa.preferred_language) == (alpha.staff, _at(11), "Wafa", "en")
    sent = Notification.objects.get(booking=booking, recipient=wafa)
    assert sent.event == "booking_created" and sent.status == "sent"
    assert "Booked: Wafa, Haircut, 2026-03-01 11:00 with Stylist Alpha." in _messages(booked)


def test_a_refused_desk_booking_is_said_in_arabic(client, alpha):
    alpha.manager.preferred_language = "ar"
    alpha.manager.save()
    client.force_login(alpha.manager)

    page = _book(client, alpha, f"{alpha.staff.pk}@{_at(11).isoformat()}", phone=alpha.staff.phone)

    assert page.status_code == 200
    assert page.context["form"].non_field_errors() == ["رقم الجوال هذا لموظف أو مدير، وليس لعميل."]
    assert Booking.objects.count() == 1


def test_a_booking_moves_to_another_staff_member_and_time(client, alpha, django_capture_on_commit_callbacks):
    client.force_login(alpha.manager)
    url = f"/admin/bookings/booking/{alpha.booking.pk}/move/"
    shown = client.post(url, {"date": DAY.isoformat(), "staff": alpha.staff.pk, "_refresh": "1"})
    # Its own time is free for it: a move by a quarter of an hour is offered.
    assert f"{alpha.staff.pk}@{_at(10, 15).isoformat()}" in dict(shown.context["form"].fields["slot"].choices)

    slot = f"{alpha.other_staff.pk}@{_at(15).isoformat()}"
    with django_capture_on_commit_callbacks(execute=True):
        moved = client.post(url, {"date": DAY.isoformat(), "staff": alpha.other_staff.pk, "slot": slot, "_move": "1"})

    assert moved.status_code == 302
    alpha.booking.refresh_from_db()
    assert (alpha.booking.staff, alpha.booking.start) == (alpha.other_staff, _at(15))
    told = Notification.objects.filter(booking=alpha.booking, event="booking_rescheduled")
    assert {row.recipient for row in told} == {alpha.customer, alpha.staff, alpha.other_staff}


@pytest.mark.parametrize(
    ("form", "stored", "said"),
    [
        ({"reason": "salon_closed"}, "salon_closed", "is cancelled (salon closed)."),
        ({"reason": "other", "written": "Power cut"}, "Power cut", "is cancelled (Power cut)."),
    ],
)
def test_a_cancellation_asks_for_a_reason_and_the_customer_hears_it(
    client, alpha, form, stored, said, django_capture_on_commit_callbacks
):
    client.force_login(alpha.manager)
    url = f"/admin/bookings/booking/{alpha.booking.pk}/cancel/"
    missing = client.post(url, {"reason": "other", "written": " "})

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, form)

    assert missing.status_code == 200 and "written" in missing.context["form"].errors
    assert done.status_code == 302
    alpha.booking.refresh_from_db()
    assert (alpha.booking.status, alpha.booking.cancellation_reason) == ("cancelled", stored)
    message = Notification.objects.get(booking=alpha.booking, recipient=alpha.customer, event="booking_cancelled")
    assert message.message.endswith(said)


def test_a_no_show_before_the_start_is_refused_in_arabic_without_codes(client, alpha):
    Booking.objects.filter(pk=alpha.booking.pk).update(status=BookingStatus.CONFIRMED)
    alpha.manager.preferred_language = "ar"
    alpha.manager.save()
    client.force_login(alpha.manager)

    response = client.post(
        "/admin/bookings/booking/", {"action": "mark_no_show", "_selected_action": [alpha.booking.pk]}, follow=True
    )

    text = _messages(response)
    assert "لم يبدأ هذا الموعد بعد" in text
    assert "no_show" not in text and "confirmed" not in text and "#" not in text
    assert Booking.objects.get(pk=alpha.booking.pk).status == BookingStatus.CONFIRMED
    assert not Notification.objects.filter(event="booking_no_show").exists()


def test_an_invalid_transition_names_the_statuses_in_words(client, alpha):
    client.force_login(alpha.manager)

    response = client.post(
        "/admin/bookings/booking/", {"action": "mark_completed", "_selected_action": [alpha.booking.pk]}, follow=True
    )

    assert "A booking that is “Pending” cannot become “Completed”. It can become: Confirmed, Cancelled." in (
        _messages(response)
    )


# --- the list ----------------------------------------------------------------------------------
def test_today_holds_no_cancelled_booking_and_a_cancelled_one_is_never_coming(client, alpha, time_machine):
    time_machine.move_to(_at(8), tick=False)  # the world's booking is today now
    gone = BookingFactory(
        service=alpha.service, staff=alpha.staff, customer=UserFactory(), start=_at(12), status="cancelled",
        customer_confirmed_at=_at(7),
    )  # fmt: skip
    client.force_login(alpha.manager)

    today = list(client.get("/admin/bookings/booking/", {"day": "today"}).context["cl"].result_list)
    cancelled = client.get("/admin/bookings/booking/", {"day": "today", "status__exact": "cancelled"})
    listed = client.get("/admin/bookings/booking/").content.decode()

    assert today == [alpha.booking]
    assert list(cancelled.context["cl"].result_list) == [gone]
    assert "✓" not in listed


# --- message settings ---------------------------------------------------------------------------
def test_a_managers_message_settings_open_on_the_defaults_with_their_salon_fixed(client, alpha):
    SalonNotificationSettings.objects.filter(salon=alpha.salon).delete()
    client.force_login(alpha.manager)

    listed = client.get("/admin/notifications/salonnotificationsettings/")
    form = client.get(listed["Location"]).context["adminform"].form
    saved = client.post(
        listed["Location"],
        {"reminder_offsets_minutes": "1440, 60", "quiet_hours_start": "22:00", "quiet_hours_end": "08:00",
         "send_completed": "on", "send_no_show": "on", "review_url": ""},
    )  # fmt: skip

    assert listed["Location"] == "/admin/notifications/salonnotificationsettings/add/"
    assert "salon" not in form.fields
    assert form["reminder_offsets_minutes"].value() == "1440, 120"
    assert str(form["quiet_hours_start"].value()) == "22:00:00" and str(form["quiet_hours_end"].value()) == "08:00:00"
    assert saved.status_code == 302
    assert SalonNotificationSettings.objects.get(salon=alpha.salon).reminder_offsets_minutes == [1440, 60]


def test_a_closure_on_the_day_view_is_named(client, alpha):
    SalonClosure.objects.create(salon=alpha.salon, start_date=DAY, end_date=DAY, reason="National Day")
    client.force_login(alpha.manager)

    assert "National Day" in client.get(DAY_URL, {"date": DAY.isoformat()}).content.decode()


def test_the_booking_list_leads_to_the_day_and_the_desk(client, alpha, staff_at_the_desk):
    client.force_login(alpha.manager)
    page = client.get("/admin/bookings/booking/").content.decode()

    assert 'href="/admin/bookings/booking/day/" id="list-day-view"' in page
    assert 'href="/admin/bookings/booking/desk/book/"' in page
    assert f'href="/admin/bookings/booking/{alpha.booking.pk}/move/"' in page


def test_a_superuser_picks_the_salon(admin_client, alpha, beta):
    first = admin_client.get(DAY_URL, {"date": DAY.isoformat()}).context
    chosen = admin_client.get(DAY_URL, {"date": DAY.isoformat(), "salon": beta.salon.pk}).context
    odd = admin_client.get(DAY_URL, {"salon": "²"})

    assert first["sheet"].salon == alpha.salon
    assert chosen["sheet"].salon == beta.salon and chosen["book_url"].endswith(f"&salon={beta.salon.pk}")
    assert odd.status_code == 200 and odd.context["sheet"].salon == alpha.salon
