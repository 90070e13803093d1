"""The front desk in a real browser (headless Chromium driven by Playwright).

Today at 08:00 Riyadh time: two staff members, one with time off, a cancelled
booking, and the salon closed tomorrow (Eid). The manager opens the day by staff
member in English, shows the cancelled booking, looks at tomorrow's closure,
books a walk-in for a new phone number from a free gap, moves that booking to the
other staff member and another time, cancels a booking with a reason (each
customer's message checked), then in Arabic is refused a no-show before the
appointment, and sees the day right to left. On a phone (390 px) the day and the
list are usable; at 1280 px the English list is whole. A staff member with admin
access sees only her own column, read-only. Screenshots stay in
backend/.run/screenshots/front-desk/.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus, CancellationReason
from apps.common.tests.factories import RIYADH, BookingFactory, StaffFactory, UserFactory
from apps.notifications.models import Notification
from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff
from browser_tests.conftest import click_and_wait, login

pytestmark = pytest.mark.django_db(transaction=True)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=RIYADH)


@pytest.fixture
def desk_day(morning_in_riyadh):
    """The demo salon today: Sara (the demo staff member, Arabic) and Huda; Chris at
    10:00 with Sara (pending), Noura at 11:00 with Huda (confirmed), a cancelled
    booking at 12:00 with Sara, Huda off 14:00-15:00; closed tomorrow for Eid."""
    call_command("load_demo", verbosity=0)
    salon = Salon.objects.get(name="Main Salon")
    haircut = Service.objects.get(salon=salon, name="Haircut")
    sara = User.objects.get(phone="+966500000003")
    chris = User.objects.get(phone="+966500000002")
    huda = StaffFactory(salon=salon, services=[haircut], name="Huda", phone="+966500000004", preferred_language="en")
    noura = UserFactory(name="نورة", phone="+966500000005", preferred_language="ar")
    today = timezone.localtime(timezone.now(), RIYADH).date()
    chris_booking = BookingFactory(service=haircut, staff=sara, customer=chris, start=_at(today, 10))
    noura_booking = BookingFactory(
        service=haircut, staff=huda, customer=noura, start=_at(today, 11), status=BookingStatus.CONFIRMED
    )
    BookingFactory(
        service=haircut, staff=sara, customer=noura, start=_at(today, 12), status=BookingStatus.CANCELLED,
        cancellation_reason=CancellationReason.CUSTOMER_REQUEST,
    )  # fmt: skip
    StaffTimeOff.objects.create(staff=huda, start=_at(today, 14), end=_at(today, 15), reason="Dentist")
    tomorrow = today + timedelta(days=1)
    SalonClosure.objects.create(salon=salon, start_date=tomorrow, end_date=tomorrow, reason="Eid")
    return {
        "today": today, "salon": salon, "sara": sara, "huda": huda, "chris": chris_booking, "noura": noura_booking,
    }  # fmt: skip


def _shot(page, folder, name: str) -> None:
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def test_the_front_desk_runs_the_salons_day(live_server, desk_day, screenshots, browser):
    base = live_server.url
    today, sara, huda = desk_day["today"], desk_day["sara"], desk_day["huda"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, base, "0500000001", "salon-demo")

    # 1. The day by staff member, in English: two columns, bookings as blocks, the
    #    cancelled one hidden, time off shaded, free time shown.
    click_and_wait(page, "#day-view-link")
    columns = page.locator("#day-grid section.day-column")
    assert columns.count() == 2
    assert [columns.nth(i).get_attribute("data-staff") for i in range(2)] == [str(huda.pk), str(sara.pk)]
    chris = page.locator(f"article[data-booking='{desk_day['chris'].pk}']")
    assert "10:00–10:30" in chris.inner_text() and "Chris Customer" in chris.inner_text()
    assert "Haircut" in chris.inner_text() and "Pending" in chris.inner_text()
    assert page.locator(".block-booking.status-cancelled").count() == 0
    assert "Show cancelled bookings (1)" in page.inner_text("#day-toggle-cancelled")
    assert "Dentist" in page.inner_text(f"section[data-staff='{huda.pk}'] .block-time-off")
    assert page.locator(f"section[data-staff='{sara.pk}'] .block-free").count() >= 2
    assert "Riyadh time" in page.inner_text("#day-toolbar")
    _shot(page, screenshots, "01-day-english-1280")

    click_and_wait(page, "#day-toggle-cancelled")
    assert page.locator(".block-booking.status-cancelled").count() == 1
    _shot(page, screenshots, "02-day-with-cancelled")

    click_and_wait(page, "#day-next")
    assert "closed" in page.inner_text("#day-closure") and "Eid" in page.inner_text("#day-closure")
    assert page.locator(".block-free").count() == 0
    _shot(page, screenshots, "03-tomorrow-closed")

    # 2. A walk-in from a free gap of Sara's: a new phone number, booked.
    click_and_wait(page, "#day-previous")
    gap = page.locator(f"section[data-staff='{sara.pk}'] a.block-free").first
    with page.expect_navigation():
        gap.click()
    with page.expect_navigation():
        page.select_option("#id_service", label="Haircut")  # the free starts follow at once
    assert page.input_value("#id_slot").startswith(f"{sara.pk}@{today.isoformat()}T09:00")
    page.fill("#id_phone", "055 765 4321")
    page.fill("#id_name", "Walk-in Wafa")
    page.select_option("#id_language", value="en")
    _shot(page, screenshots, "04-walk-in-form")
    click_and_wait(page, "#desk-submit")
    assert "Booked: Walk-in Wafa, Haircut" in page.inner_text(".messagelist")
    walk_in = Booking.objects.get(customer__phone="+966557654321")
    assert (walk_in.staff_id, walk_in.start, walk_in.customer.name) == (sara.pk, _at(today, 9), "Walk-in Wafa")
    created = Notification.objects.get(booking=walk_in, recipient=walk_in.customer, event="booking_created")
    assert created.status == "sent" and created.message.startswith("Your booking request is received for Haircut")
    assert page.locator(f"article[data-booking='{walk_in.pk}']").is_visible()
    _shot(page, screenshots, "05-walk-in-booked")

    # 3. Move it to Huda at 16:00: both staff members and the customer are told.
    with page.expect_navigation():
        page.click(f"article[data-booking='{walk_in.pk}'] a.block-move")
    with page.expect_navigation():
        page.select_option("#id_staff", value=str(huda.pk))
    page.select_option("#id_slot", value=f"{huda.pk}@{today.isoformat()}T16:00:00+03:00")
    _shot(page, screenshots, "06-move-form")
    click_and_wait(page, "#desk-submit")
    assert "Moved: Walk-in Wafa" in page.inner_text(".messagelist")
    walk_in.refresh_from_db()
    assert (walk_in.staff_id, walk_in.start) == (huda.pk, _at(today, 16))
    moved = Notification.objects.filter(booking=walk_in, event="booking_rescheduled")
    assert {row.recipient_id for row in moved} == {walk_in.customer_id, sara.pk, huda.pk}
    told = moved.get(recipient=walk_in.customer)
    assert f"moved from {today} 09:00 to {today} 16:00." in told.message
    _shot(page, screenshots, "07-moved")

    # 4. Cancel Chris's booking: the staff member is not available. His message says so.
    with page.expect_navigation():
        page.click(f"article[data-booking='{desk_day['chris'].pk}'] a.block-cancel")
    page.check("input[name=reason][value=staff_unavailable]")
    _shot(page, screenshots, "08-cancel-with-a-reason")
    click_and_wait(page, "#desk-submit")
    assert "Cancelled: Chris Customer" in page.inner_text(".messagelist")
    cancelled = Booking.objects.get(pk=desk_day["chris"].pk)
    assert (cancelled.status, cancelled.cancellation_reason) == (BookingStatus.CANCELLED, "staff_unavailable")
    message = Notification.objects.get(booking=cancelled, recipient=cancelled.customer, event="booking_cancelled")
    assert message.status == "sent" and message.message.endswith("is cancelled (staff member unavailable).")
    _shot(page, screenshots, "09-cancelled")

    # 5. In Arabic: a no-show before the appointment is refused, in Arabic, without codes.
    page.goto(f"{base}/admin/bookings/booking/?day=today")
    click_and_wait(page, "#language-switch button")
    row = page.locator("#result_list tbody tr", has_text="نورة")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", value="mark_no_show")
    click_and_wait(page, "button[name=index]")
    refusal = page.inner_text(".messagelist")
    assert "لم يبدأ" in refusal, refusal
    assert "no_show" not in refusal and "confirmed" not in refusal and "#" not in refusal
    assert Booking.objects.get(pk=desk_day["noura"].pk).status == BookingStatus.CONFIRMED
    assert not Notification.objects.filter(event="booking_no_show").exists()
    _shot(page, screenshots, "10-no-show-refused-arabic")

    # 6. The Arabic day, right to left: the hours' axis on the right.
    click_and_wait(page, "#day-view-link")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert "توقيت الرياض" in page.inner_text("#day-toolbar")
    axis = page.locator(".day-axis").bounding_box()
    first_column = page.locator("#day-grid section.day-column").first.bounding_box()
    assert axis["x"] > first_column["x"]
    _shot(page, screenshots, "11-day-arabic-1280")

    # 7. On a phone: the day scrolls sideways under its toolbar; the list's filters come
    #    first and each row shows time, customer and status within the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.add_cookies(page.context.cookies())
    small = phone.new_page()
    small.goto(f"{base}/admin/bookings/booking/day/")
    assert small.locator("#day-today").is_visible() and small.locator("#day-book").is_visible()
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(small, screenshots, "12-day-arabic-390")
    small.goto(f"{base}/admin/bookings/booking/?day=today")
    filters, results = small.locator("#changelist-filter").bounding_box(), small.locator("#result_list").bounding_box()
    assert filters["y"] < results["y"]
    first_row = small.locator("#result_list tbody tr").first
    for cell in ("field-start_local", "field-customer_display", "field-status_display"):
        box = first_row.locator(f".{cell}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell
    _shot(small, screenshots, "13-list-arabic-390")
    phone.close()

    # 8. At 1280 px the English list is whole: nothing clipped or scrolled away.
    click_and_wait(page, "#language-switch button")
    page.goto(f"{base}/admin/bookings/booking/?day=today")
    assert page.evaluate(
        "document.querySelector('.results').scrollWidth <= document.querySelector('.results').clientWidth"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    _shot(page, screenshots, "14-list-english-1280")

    # 9. Sara, with admin access, sees her own column only, read-only.
    sara.is_staff = True
    sara.set_password("pw-for-tests-only")
    sara.save()
    page.context.clear_cookies()
    login(page, base, "0500000003", "pw-for-tests-only")
    click_and_wait(page, "#day-view-link")
    assert page.locator("#day-grid section.day-column").count() == 1
    assert page.locator(f"section[data-staff='{sara.pk}']").count() == 1
    assert page.locator("a.block-move, a.block-cancel, #day-book, a.block-free").count() == 0
    _shot(page, screenshots, "15-staff-own-column")
    refused = page.goto(f"{base}/admin/bookings/booking/desk/book/")
    assert refused.status == 403

    assert sorted(p.name for p in screenshots.iterdir()) == [
        "01-day-english-1280.png", "02-day-with-cancelled.png", "03-tomorrow-closed.png", "04-walk-in-form.png",
        "05-walk-in-booked.png", "06-move-form.png", "07-moved.png", "08-cancel-with-a-reason.png",
        "09-cancelled.png", "10-no-show-refused-arabic.png", "11-day-arabic-1280.png", "12-day-arabic-390.png",
        "13-list-arabic-390.png", "14-list-english-1280.png", "15-staff-own-column.png",
    ]  # fmt: skip
