"""The waiting list on a live stack whose clock libfaketime sets: gunicorn, a Celery
worker and beat over Redis, PostgreSQL, the fake WhatsApp and Twilio servers.

Three customers wait for a time that is booked (two on WhatsApp, one by SMS). The
booking is cancelled: all three are offered it at once. Twenty concurrent claims
across them (WhatsApp's "Book it", the SMS link's page, the API): exactly one
booking, no double booking, the others told it was taken. Then an offer nobody
claims expires after its minutes (the beat's scan), and a late tap is told so.

Skipped without PostgreSQL, Redis and libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from apps.bookings.models import ACTIVE_STATUSES, Booking
from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.common.tests.fake_whatsapp import FakeWhatsApp
from apps.common.tests.live import free_port, wait_for
from apps.notifications.models import Notification
from apps.notifications.replies import read_reply_token
from apps.waitlist.models import WaitlistEntry, WaitlistOffer, WaitlistStatus

pytestmark = pytest.mark.services

TAKEN = {
    "en": "Sorry, that time was just taken. You are still on the waiting list.",
    "ar": "عذراً، حُجز هذا الموعد للتو. ما زلت على قائمة الانتظار.",
}
EXPIRED = {
    "en": "Sorry, this offer has expired. You are still on the waiting list.",
    "ar": "عذراً، انتهت مهلة هذا العرض. ما زلت على قائمة الانتظار.",
}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=RIYADH)


class Api:
    def __init__(self, base: str):
        self.base = base
        self.tokens = {}

    def token(self, user) -> str:
        """A token per person, minted once (in the test's thread: minting writes a row)."""
        if user.pk not in self.tokens:
            token = RefreshToken.for_user(user).access_token
            token.set_exp(lifetime=timedelta(days=30))  # still valid on the stack's clock, days ahead
            self.tokens[user.pk] = str(token)
        return self.tokens[user.pk]

    def call(self, method: str, path: str, user, body=None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(user)}"}
        return httpx.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=60)

    def book(self, person, service, staff, start: datetime) -> int:
        body = {"service": service.pk, "staff": staff.pk, "start": start.isoformat()}
        response = self.call("POST", "/api/bookings/", person, body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def cancel(self, person, booking_id: int) -> None:
        response = self.call("PATCH", f"/api/bookings/{booking_id}/", person, {"status": "cancelled"})
        assert response.status_code == 200, response.text


class LinkPage:
    """The SMS link's page, opened in a browser that keeps its cookies (CSRF)."""

    def __init__(self, link: str):
        self.link = link
        self.browser = httpx.Client(timeout=60)
        page = self.browser.get(link)
        assert page.status_code == 200 and 'id="book"' in page.text, page.text
        self.csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def claim(self) -> str:
        answer = self.browser.post(self.link, data={"csrfmiddlewaretoken": self.csrf}, headers={"Referer": self.link})
        assert answer.status_code == 200, answer.text
        return "booked" if 'id="booked"' in answer.text else re.search(r'data-code="([^"]+)"', answer.text).group(1)


def test_three_wait_twenty_claim_one_books_the_others_are_told_and_an_unclaimed_offer_expires(stack, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon", salon__name_ar="الصالون الرئيسي")
    sara = StaffFactory(salon=haircut.salon, services=[haircut], name="Sara")
    day = date.today() + timedelta(days=3)
    clock = fake_clock(_at(day - timedelta(days=1), 10))
    holder, later_holder = UserFactory(name="Holder"), UserFactory(name="Later")
    ali = UserFactory(name="Ali", preferred_language="en", preferred_channel="whatsapp")
    huda = UserFactory(name="Huda", preferred_language="ar", preferred_channel="whatsapp")
    sam = UserFactory(name="Sam", preferred_language="en", preferred_channel="sms")
    port = free_port()
    with FakeWhatsApp() as meta, FakeTwilio() as twilio:
        env = stack.env(
            meta,
            twilio,
            clock.env(),
            NOTIFICATION_PROVIDER="whatsapp_cloud",
            NOTIFICATION_SMS_PROVIDER="twilio",
            PORT=str(port),  # the SMS link points at this server (no PUBLIC_BASE_URL)
            WAITLIST_SCAN_INTERVAL_SECONDS="2",
        )
        stack.worker(env, concurrency=8)
        stack.beat(env)
        api = Api(stack.web(env, port=port, workers=4, threads=4))
        hook = f"{api.base}/api/webhooks/whatsapp/"

        # Sara's 10:00 and 11:00 are booked; three customers wait for 09:00-12:00, in this order.
        ten = api.book(holder, haircut, sara, _at(day, 10))
        eleven = api.book(later_holder, haircut, sara, _at(day, 11))
        entries = {}
        for person in (ali, huda, sam):
            body = {"service": haircut.pk, "date": day.isoformat(), "window_start": "09:00", "window_end": "12:00"}
            response = api.call("POST", "/api/waitlist/", person, body)
            assert response.status_code == 201, response.text
            entries[person.pk] = response.json()["id"]

        # 1. The 10:00 is cancelled: all three are offered it at once.
        api.cancel(holder, ten)
        offers = {
            ali: wait_for(lambda: [m for m in meta.messages_to(ali.phone) if m["type"] == "template"], timeout=30),
            huda: wait_for(lambda: [m for m in meta.messages_to(huda.phone) if m["type"] == "template"], timeout=30),
        }
        sms = wait_for(lambda: twilio.sms_to(sam.phone), timeout=30, what="the SMS offer")
        assert {p: [m["template"]["name"] for m in ms] for p, ms in offers.items()} == {
            ali: ["waitlist_offer_customer"],
            huda: ["waitlist_offer_customer"],
        }
        (message,) = sms
        link = re.search(r"(http://127\.0\.0\.1:\d+/w/\S+)$", message.body).group(1)
        assert message.body.startswith("A place opened: Haircut at Main Salon, ")
        buttons = {p: meta.button_payloads(ms[0])[0] for p, ms in offers.items()}
        assert {read_reply_token(b).action for b in buttons.values()} == {"book"}
        assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistStatus.OFFERED}

        # 2. Twenty claims at once: 3 taps each on WhatsApp, 3 posts of the SMS link's page, 11 through the API.
        pages = [LinkPage(link) for _ in range(3)]
        for person in (ali, huda, sam):
            api.token(person)  # the threads below touch no database
        start = _at(day, 10).isoformat()
        claims = [("tap", ali)] * 3 + [("tap", huda)] * 3 + [("page", page) for page in pages]
        claims += [("api", person) for person in (ali, huda, sam, ali, huda, sam, ali, huda, sam, ali, huda)]
        assert len(claims) == 20
        ready = threading.Barrier(len(claims))

        def claim(kind, who):
            ready.wait(timeout=30)
            if kind == "tap":
                label = "Book it" if who is ali else "احجزه"
                press = meta.press_button(sender=who.phone, payload=buttons[who], label=label)
                return kind, who.pk, meta.deliver(hook, press).status_code
            if kind == "page":
                return kind, sam.pk, who.claim()
            answer = api.call("POST", f"/api/waitlist/{entries[who.pk]}/claim/", who, {"start": start})
            return kind, who.pk, (answer.status_code, answer.json().get("code"))

        with ThreadPoolExecutor(max_workers=len(claims)) as pool:
            results = list(pool.map(lambda c: claim(*c), claims))

        active = Booking.objects.filter(staff=sara, start=_at(day, 10), status__in=ACTIVE_STATUSES)
        (booking,) = active  # exactly one booking, and no double booking of Sara at 10:00
        overlapping = Booking.objects.filter(
            staff=sara, status__in=ACTIVE_STATUSES, start__lt=booking.busy_until, busy_until__gt=booking.start
        )
        assert overlapping.count() == 1
        winner = booking.customer
        assert winner in (ali, huda, sam)
        assert all(status == 200 for kind, _, status in results if kind == "tap")
        api_answers = Counter(status for kind, _, status in results if kind == "api")
        page_answers = Counter(outcome for kind, _, outcome in results if kind == "page")
        assert api_answers[(201, None)] + page_answers["booked"] <= 1
        assert set(api_answers) <= {(201, None), (409, "slot_taken"), (409, "waitlist_entry_booked")}
        assert set(page_answers) <= {"booked", "slot_taken", "waitlist_entry_booked"}
        statuses = dict(WaitlistEntry.objects.values_list("customer_id", "status"))
        assert statuses[winner.pk] == WaitlistStatus.BOOKED
        assert [s for p, s in statuses.items() if p != winner.pk] == [WaitlistStatus.WAITING] * 2  # still on the list
        # Everyone who tapped and lost was told, in their language, that it was taken.
        for person in (ali, huda):
            if person == winner:
                continue
            answers = wait_for(lambda p=person: meta.texts_to(p.phone), timeout=30, what="the taken answer")
            assert set(answers) == {TAKEN[person.preferred_language]}
        if winner != sam:
            assert page_answers["slot_taken"] >= 1  # the SMS customer's page said it was taken

        # 3. The 11:00 is cancelled: the two still waiting are offered it; nobody claims.
        losers = [p for p in (ali, huda, sam) if p != winner]
        api.cancel(later_holder, eleven)
        fresh = wait_for(
            lambda: list(WaitlistOffer.objects.filter(freed_booking_id=eleven)) or None, timeout=30, what="offers"
        )
        assert sorted(o.entry.customer_id for o in fresh) == sorted(p.pk for p in losers)
        sent = Notification.objects.filter(event="waitlist_offer", waitlist_offer__in=fresh, status="sent")
        wait_for(lambda: sent.count() == 2, timeout=30, what="the second offers sent")
        expires_at = fresh[0].expires_at
        assert expires_at - fresh[0].valid_from == timedelta(minutes=15)
        listed = api.call("GET", "/api/waitlist/", losers[0]).json()["results"]
        assert [(e["status"], [o["start"] for o in e["offers"]]) for e in listed] == [
            ("offered", [_at(day, 11).isoformat()])
        ]

        clock.set(expires_at + timedelta(seconds=30))  # the offer's minutes are over
        wait_for(
            lambda: set(WaitlistEntry.objects.filter(customer__in=losers).values_list("status", flat=True))
            == {WaitlistStatus.WAITING},
            timeout=30,
            what="the beat's scan to end the offers",
        )
        listed = api.call("GET", "/api/waitlist/", losers[0]).json()["results"]
        assert [(e["status"], e["offers"]) for e in listed] == [("waiting", [])]
        whatsapp_loser = next((p for p in losers if p.preferred_channel == "whatsapp"), None)
        if whatsapp_loser is not None:
            late = meta.button_payloads(
                [m for m in meta.messages_to(whatsapp_loser.phone) if m["type"] == "template"][-1]
            )[0]
            told = len(meta.texts_to(whatsapp_loser.phone))
            meta.deliver(hook, meta.press_button(sender=whatsapp_loser.phone, payload=late, label="Book it"))
            answers = wait_for(
                lambda: meta.texts_to(whatsapp_loser.phone)[told:], timeout=30, what="the expired answer"
            )
            assert answers == [EXPIRED[whatsapp_loser.preferred_language]]
        assert not Booking.objects.filter(start=_at(day, 11), status__in=ACTIVE_STATUSES).exists()
