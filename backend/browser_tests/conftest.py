"""What the browser tests share: Debian's chromium, a folder of screenshots per test
module (kept after the run), and the clock at 08:00 salon time today."""

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from apps.common.tests.factories import RIYADH

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are not async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def screenshots(request):
    root = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / ".run" / "screenshots"))
    folder = root / request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def morning_in_riyadh():
    """Today at 08:00 salon time, the clock running: bookings from 10:00 lie ahead
    whatever the hour the test runs at (a resend is refused once the appointment has
    started, a no-show is refused before it). Same day, so the browser's cookies stay valid."""
    today = timezone.localtime(timezone.now(), RIYADH).date()
    with time_machine.travel(datetime(today.year, today.month, today.day, 8, 0, tzinfo=RIYADH), tick=True):
        yield


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test-browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def login(page, base: str, phone: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", phone)
    page.fill("#id_password", password)
    click_and_wait(page, "input[type=submit]")
    assert page.url == f"{base}/admin/", page.url


def click_and_wait(page, selector: str) -> None:
    """Click something that loads a new page, and wait for that page."""
    with page.expect_navigation():
        page.click(selector)
