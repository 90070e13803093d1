"""The manager's admin in a real browser (headless Chromium driven by Playwright).

A manager logs in with the national form of her phone, sees today's bookings in
salon time, confirms one, filters the failed messages and resends one, switches
to Arabic (a right-to-left page), and the manager of another salon cannot open
her salon's booking or message by URL. Each step leaves a screenshot in a folder
the test prints. Run by `make test-browser` (and `.ci/run`), which installs
Debian's chromium when it is missing; Playwright cannot download browsers here.
"""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.admin_fixtures import salon_world
from apps.common.tests.factories import RIYADH, BookingFactory, NotificationFactory
from apps.notifications.models import Notification, NotificationStatus
from apps.salons.models import Salon, Service
from browser_tests.conftest import click_and_wait, login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def salon_today(settings, morning_in_riyadh):
    """The demo salon with two bookings today (salon time) and a failed message, and a second salon."""
    call_command("load_demo", verbosity=0)
    salon = Salon.objects.get(name="Main Salon")
    haircut = Service.objects.get(salon=salon, name="Haircut")
    staff = User.objects.get(phone="+966500000003")
    customer = User.objects.get(phone="+966500000002")
    today = timezone.localtime(timezone.now(), RIYADH).date()
    bookings = [
        BookingFactory(
            service=haircut,
            staff=staff,
            customer=customer,
            start=datetime(today.year, today.month, today.day, hour, minute, tzinfo=RIYADH),
        )
        for hour, minute in ((10, 0), (13, 30))
    ]
    BookingFactory(  # tomorrow: not in today's list
        service=haircut, staff=staff, customer=customer, start=bookings[0].start + timedelta(days=1)
    )
    failed = NotificationFactory(
        booking=bookings[1], recipient=staff, phone=staff.phone, provider="console", status="failed",
        reason="[20003] Authenticate",
    )  # fmt: skip
    other = salon_world("Beta", phone_prefix="+9665422000")
    return bookings, failed, other


def _action(page, label: str) -> None:
    page.select_option("select[name=action]", label=label)
    click_and_wait(page, "button[name=index]")


def test_a_manager_runs_the_day_in_the_admin(live_server, salon_today, screenshots, browser):
    bookings, failed, other = salon_today
    base = live_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    # 1. Log in with the phone as people write it.
    login(page, base, "0500000001", "salon-demo")
    page.screenshot(path=screenshots / "01-logged-in.png", full_page=True)

    # 2. Today's bookings, in salon time.
    page.goto(f"{base}/admin/bookings/booking/")
    click_and_wait(page, "#changelist-filter >> text=Today")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    first_start = timezone.localtime(bookings[0].start, RIYADH).strftime("%Y-%m-%d %H:%M")
    assert first_start.endswith("10:00") and first_start in rows.nth(0).inner_text()
    assert "Riyadh time" in page.inner_text("#salon-time-zone")
    for column in ("Customer", "Staff member", "Service", "Status"):
        assert page.locator(f"#result_list thead >> text={column}").is_visible()
    page.screenshot(path=screenshots / "02-todays-bookings-in-salon-time.png", full_page=True)

    # 3. Confirm the first one.
    rows.nth(0).locator("input.action-select").check()
    _action(page, "Confirm")
    assert "Confirm: 1 booking(s)." in page.inner_text(".messagelist")
    assert Booking.objects.get(pk=bookings[0].pk).status == BookingStatus.CONFIRMED
    page.screenshot(path=screenshots / "03-confirmed.png", full_page=True)

    # 4. The failed messages, and resend one.
    page.goto(f"{base}/admin/notifications/notification/")
    click_and_wait(page, "#changelist-filter >> text=Failed")
    failed_rows = page.locator("#result_list tbody tr")
    assert failed_rows.count() == 1 and "Authenticate" in failed_rows.nth(0).inner_text()
    page.screenshot(path=screenshots / "04-failed-messages.png", full_page=True)
    failed_rows.nth(0).locator("input.action-select").check()
    _action(page, "Resend failed notifications")
    assert "Queued 1 failed notification(s) again." in page.inner_text(".messagelist")
    page.screenshot(path=screenshots / "05-resent.png", full_page=True)

    # 5. Arabic, right to left.
    page.goto(f"{base}/admin/bookings/booking/?day=today")
    click_and_wait(page, "#language-switch button")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert "الحجوزات" in page.inner_text("#content")
    page.screenshot(path=screenshots / "06-arabic-right-to-left.png", full_page=True)

    # 6. The other salon's manager cannot open this salon's booking or message.
    page.context.clear_cookies()
    login(page, base, other.manager.phone, "pw-for-tests-only")
    for name, url in (
        ("07-other-manager-booking", f"{base}/admin/bookings/booking/{bookings[0].pk}/change/"),
        ("08-other-manager-message", f"{base}/admin/notifications/notification/{failed.pk}/change/"),
    ):
        response = page.goto(url)
        assert response.status == 404, url
        page.screenshot(path=screenshots / f"{name}-404.png", full_page=True)

    assert Notification.objects.get(pk=failed.pk).status == NotificationStatus.SENT
    assert sorted(p.name for p in screenshots.iterdir()) == [
        "01-logged-in.png",
        "02-todays-bookings-in-salon-time.png",
        "03-confirmed.png",
        "04-failed-messages.png",
        "05-resent.png",
        "06-arabic-right-to-left.png",
        "07-other-manager-booking-404.png",
        "08-other-manager-message-404.png",
    ]
