"""The admin in the salon's time and the manager's language: local times with the
zone named, days by the salon's calendar, Arabic right to left and switchable,
phone numbers kept left to right, login with any phone form."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from apps.common.tests.admin_fixtures import salon_world

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


@pytest.fixture
def alpha(now):
    return salon_world("Alpha", phone_prefix="+9665411000")


def test_times_are_the_salons_with_the_zone_named(client, alpha):
    alpha.booking.start = datetime(2026, 3, 1, 7, 7, tzinfo=UTC)  # 10:07 in Riyadh
    alpha.booking.save()
    client.force_login(alpha.manager)

    listing = client.get("/admin/bookings/booking/").content.decode()
    detail = client.get(f"/admin/bookings/booking/{alpha.booking.pk}/change/").content.decode()

    assert "2026-03-01 10:07" in listing and "7:07" not in listing
    assert "Times are salon time: Riyadh time" in listing and "Asia/Riyadh" not in listing
    assert '<bdi dir="ltr">2026-03-01 10:07</bdi> (Riyadh time)' in detail


def test_today_is_the_salons_day(client, alpha, time_machine):
    # 22:30 UTC on the 28th is 01:30 on the 1st in Riyadh: "today" is the 1st there.
    time_machine.move_to(datetime(2026, 2, 28, 22, 30, tzinfo=UTC), tick=False)
    alpha.booking.start = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)  # 10:00 on the 1st, Riyadh
    alpha.booking.save()
    client.force_login(alpha.manager)

    today = list(client.get("/admin/bookings/booking/", {"day": "today"}).context["cl"].result_list)
    tomorrow = list(client.get("/admin/bookings/booking/", {"day": "tomorrow"}).context["cl"].result_list)

    assert today == [alpha.booking] and tomorrow == []


def test_an_arabic_manager_gets_a_right_to_left_arabic_admin_and_can_switch(client, alpha):
    alpha.manager.preferred_language = "ar"
    alpha.manager.save()
    client.force_login(alpha.manager)

    arabic = client.get("/admin/bookings/booking/").content.decode()
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/bookings/booking/"})
    english = client.get("/admin/bookings/booking/").content.decode()

    assert '<html lang="ar" dir="rtl">' in arabic and "الحجوزات" in arabic and "البداية (بتوقيت الصالون)" in arabic
    assert f'<bdi dir="ltr">{alpha.customer.phone}</bdi>' in arabic  # the number keeps its order
    assert switched.status_code == 302
    assert '<html lang="en" dir="ltr">' in english and "start (salon time)" in english.lower()


def test_login_with_the_national_form_of_the_phone(client, alpha):
    for typed in ("0541100001", "+966 54 110 0001", "00966541100001"):
        client.logout()
        response = client.post("/admin/login/", {"username": typed, "password": "pw-for-tests-only", "next": "/admin/"})
        assert response.status_code == 302 and response["Location"] == "/admin/", typed

    wrong = client.post("/admin/login/", {"username": "0541100001", "password": "nope"})
    assert wrong.status_code == 200 and "correct" in wrong.content.decode()


def test_the_day_view_is_in_salon_time_and_arabic_right_to_left(client, alpha):
    alpha.manager.preferred_language = "ar"
    alpha.manager.save()
    client.force_login(alpha.manager)

    page = client.get("/admin/bookings/booking/day/", {"date": "2026-03-01"}).content.decode()

    assert '<html lang="ar" dir="rtl">' in page and "اليوم حسب الموظف" in page
    assert "الأوقات حسب توقيت الرياض" in page and "Asia/Riyadh" not in page
    assert '<bdi dir="ltr">10:00–10:30</bdi>' in page  # the world's booking, 07:00 UTC
