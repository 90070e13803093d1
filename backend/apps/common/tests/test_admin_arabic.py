"""Every admin page a manager can reach, in Arabic, holds no English word except the
names, phones and codes the people of the salon typed.

The test logs in as an Arabic-speaking manager of a salon with something in every
corner (bookings in every status, messages sent, failed and skipped, replies
refused, a closure, time off, message settings), walks every link from the admin's
home page (lists, filters, pages of objects, add forms, the day view and the front
desk's forms), submits the forms that answer with refusals and errors, and reads
each page's visible text (text, option labels, button values, titles and
placeholders). Words built outside gettext (an f-string, a stored English
sentence, a model's ``__str__``) are exactly what it finds. The salon's people all
read Arabic, so the messages on record (kept as sent, in their reader's language)
are Arabic too.
"""

import re
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.messages import get_messages

from apps.accounts.models import Role
from apps.bookings.models import BookingStatus, CancellationReason
from apps.common.tests.admin_fixtures import managers_group
from apps.common.tests.factories import (
    RIYADH,
    BookingFactory,
    NotificationFactory,
    ServiceFactory,
    StaffFactory,
    UserFactory,
)
from apps.notifications.models import InboundMessage, SalonNotificationSettings, SkipReason
from apps.salons.models import SalonClosure, StaffTimeOff

pytestmark = pytest.mark.django_db

# What the salon's people typed (names, reasons, a link, a zone): the only Latin
# words allowed on an Arabic page.
TYPED = {
    "salon": "Lulu Beauty",
    "service": "Blowdry",
    "manager": "Mona",
    "staff": "Sara",
    "customer": "Reem",
    "closure": "Eid",
    "time_off": "Dentist",
    "review": "https://reviews.example/lulu",
    "zone": "Asia/Riyadh",
    "written_reason": "Power cut",
    "provider_code": "[30003]",
}
ALLOWED = {word.lower() for value in TYPED.values() for word in re.findall(r"[A-Za-z]{2,}", value)}
# The language switch names the other language in that language (so that a reader
# of it finds it): that one English word is the point of the button.
ALLOWED |= {"english"}
# Django's own Arabic help for choosing several: the keys as printed on keyboards.
ALLOWED |= {"control", "command"}
DAY = date(2026, 3, 1)


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes (not scripts or styles), option labels,
    button values, titles, placeholders and labels for assistive technology."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attributes.get(name):
                self.parts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth:
            self.parts.append(data)


def english_words(html: str) -> set[str]:
    reader = VisibleText()
    reader.feed(html)
    words = re.findall(r"[A-Za-z]{2,}", " ".join(reader.parts))
    return {word for word in words if word.lower() not in ALLOWED}


def _links(html: str, base: str) -> list[str]:
    reader = VisibleText()
    reader.feed(html)
    return [urljoin(base, href) for href in reader.links]


@pytest.fixture
def arabic_salon(now):
    service = ServiceFactory(
        name=TYPED["service"], name_ar="تجفيف الشعر", salon__name=TYPED["salon"], salon__name_ar="لولو للتجميل"
    )
    salon = service.salon
    manager = UserFactory(
        phone="+966541100001", name=TYPED["manager"], role=Role.MANAGER, salon=salon, is_staff=True,
        preferred_language="ar",
    )  # fmt: skip
    manager.set_password("pw-for-tests-only")
    manager.save()
    manager.groups.add(managers_group())
    staff = StaffFactory(phone="+966541100002", name=TYPED["staff"], salon=salon, services=[service],
                         preferred_language="ar")  # fmt: skip
    customer = UserFactory(phone="+966541100003", name=TYPED["customer"], preferred_language="ar")
    start = datetime.combine(DAY, time(10), tzinfo=RIYADH)
    bookings = {
        status: BookingFactory(
            service=service, staff=staff, customer=customer, start=start + timedelta(hours=i), status=status
        )
        for i, status in enumerate(BookingStatus.values)
    }
    cancelled = bookings[BookingStatus.CANCELLED]
    cancelled.cancellation_reason = CancellationReason.SALON_CLOSED
    cancelled.save()
    BookingFactory(
        service=service, staff=staff, customer=customer, start=start + timedelta(hours=6), status="cancelled",
        cancellation_reason=TYPED["written_reason"],
    )  # fmt: skip
    confirmed = bookings[BookingStatus.CONFIRMED]
    confirmed.customer_confirmed_at = start - timedelta(hours=20)
    confirmed.save()
    pending = bookings[BookingStatus.PENDING]
    for status, reason in (
        ("sent", ""),
        ("failed", f"Gave up after 5 attempts. Last error: {TYPED['provider_code']}"),
        ("skipped", SkipReason.NO_PHONE),
    ):
        NotificationFactory(booking=pending, status=status, reason=reason, message="تم استلام طلب حجزك", event=(
            "booking_created" if status == "sent" else "booking_reminder" if status == "failed" else "booking_confirmed"
        ))  # fmt: skip
    for number, reason in enumerate(
        ["[booking_not_started] This booking has not started yet.", "The booking is already confirmed.",
         "Unknown sender."]
    ):  # fmt: skip
        InboundMessage.objects.create(
            provider="whatsapp_cloud", provider_message_id=f"wamid.{number}", channel="whatsapp",
            phone=customer.phone, text="سؤال", user=customer, booking=pending, salon=salon,
            outcome="refused", action="keep", reason=reason,
        )  # fmt: skip
    SalonClosure.objects.create(salon=salon, start_date=DAY + timedelta(days=30), end_date=DAY + timedelta(days=32),
                                reason=TYPED["closure"])  # fmt: skip
    StaffTimeOff.objects.create(staff=staff, start=start + timedelta(days=1), end=start + timedelta(days=1, hours=3),
                                reason=TYPED["time_off"])  # fmt: skip
    SalonNotificationSettings.objects.create(salon=salon, review_url=TYPED["review"])
    return {"manager": manager, "staff": staff, "bookings": bookings, "service": service}


# Links that leave the admin's pages, change state by GET, or only re-sort a list.
SKIP = re.compile(
    r"/admin/logout/|/i18n/|[?&]o=|_facets=|/history/\d|/password/$|/delete/$|_changelist_filters|/r/\d+/\d+/"
)


def test_every_page_a_manager_reaches_in_arabic_has_no_english(client, arabic_salon):
    client.force_login(arabic_salon["manager"])
    seen, kinds, queue, found = set(), set(), ["/admin/"], {}
    while queue and len(seen) < 400:
        url = queue.pop(0)
        # One page per path and set of parameters: a list filtered by one value or another reads alike.
        path, _sep, query = url.partition("?")
        kind = (path, tuple(sorted(pair.partition("=")[0] for pair in query.split("&") if pair)))
        if url in seen or kind in kinds:
            continue
        seen.add(url)
        kinds.add(kind)
        response = client.get(url, follow=True)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert '<html lang="ar" dir="rtl">' in html, url
        if words := english_words(html):
            found[url] = sorted(words)
        for link in _links(html, url):
            parts = urlsplit(link)
            if parts.netloc in ("", "testserver") and parts.path.startswith("/admin/") and not SKIP.search(link):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))

    assert len(seen) > 60, sorted(seen)  # lists, filters, objects, forms, the desk
    pending = arabic_salon["bookings"]["pending"].pk
    desk = {
        "/admin/bookings/booking/day/",
        "/admin/bookings/booking/desk/book/",
        f"/admin/bookings/booking/{pending}/move/",
        f"/admin/bookings/booking/{pending}/cancel/",
        f"/admin/notifications/salonnotificationsettings/{SalonNotificationSettings.objects.get().pk}/change/",
    }
    assert desk <= {url.partition("?")[0] for url in seen}
    assert found == {}


def test_refusals_and_form_errors_in_arabic_have_no_english(client, arabic_salon):
    client.force_login(arabic_salon["manager"])
    pending, confirmed = arabic_salon["bookings"]["pending"], arabic_salon["bookings"]["confirmed"]
    staff, service = arabic_salon["staff"], arabic_salon["service"]
    slot = f"{staff.pk}@{datetime.combine(DAY, time(18), tzinfo=RIYADH).isoformat()}"
    pages = {
        "no-show before the start": client.post(
            "/admin/bookings/booking/", {"action": "mark_no_show", "_selected_action": [confirmed.pk]}, follow=True
        ),
        "completed from pending": client.post(
            "/admin/bookings/booking/", {"action": "mark_completed", "_selected_action": [pending.pk]}, follow=True
        ),
        "a staff member's phone at the desk": client.post(
            "/admin/bookings/booking/desk/book/",
            {"date": DAY.isoformat(), "service": service.pk, "slot": slot, "phone": staff.phone, "_book": "1"},
        ),
        "a start not offered": client.post(
            "/admin/bookings/booking/desk/book/",
            {"date": DAY.isoformat(), "service": service.pk, "slot": f"{staff.pk}@x", "phone": "x", "_book": "1"},
        ),
        "a cancellation without its reason": client.post(
            f"/admin/bookings/booking/{pending.pk}/cancel/", {"reason": "other"}
        ),
        "a closure ending before it starts": client.post(
            "/admin/salons/salonclosure/add/", {"start_date": "2026-05-02", "end_date": "2026-05-01", "reason": "x"}
        ),
        "reminders that are not minutes": client.post(
            f"/admin/notifications/salonnotificationsettings/{SalonNotificationSettings.objects.get().pk}/change/",
            {"reminder_offsets_minutes": "a day", "quiet_hours_start": "22:00", "quiet_hours_end": "08:00"},
        ),
    }
    found = {}
    for name, response in pages.items():
        html = response.content.decode() + " ".join(str(m) for m in get_messages(response.wsgi_request))
        assert response.status_code == 200, name
        assert "errornote" in html or "errorlist" in html or "error" in html, name  # a refusal is shown
        if words := english_words(html):
            found[name] = sorted(words)

    assert found == {}
