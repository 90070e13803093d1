"""Personal data on a live stack: gunicorn, a Celery worker over Redis, PostgreSQL, the
fake Twilio server, a local Sentry, and (libfaketime) a clock the test moves.

1. A customer books twice, exports, erases; their tokens die, the salon keeps an
   anonymous history, the phone is nowhere in the database, a new login is empty.
2. With the clock past the retention period, ``apply_retention`` redacts the old
   messages and leaves the recent whole; a second run changes nothing.
3. A failed send: the log lines and the Sentry events hold no number, code, token or text.

Skipped without PostgreSQL, Redis or libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

import re
import time
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone

from apps.accounts.models import OneTimeCode, User
from apps.common.tests.factories import RIYADH, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_sentry import FakeSentry
from apps.common.tests.fake_twilio import FakeTwilio, Received, Reply
from apps.common.tests.live import run_manage, wait_for
from apps.notifications.models import DeliveryAttempt, InboundMessage, Notification
from apps.privacy.redaction import phone_forms
from apps.privacy.tests.helpers import places_holding

pytestmark = pytest.mark.services

PHONE = "+966539871402"
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


@pytest.fixture
def salon(postgres):
    haircut = ServiceFactory(salon__name="Main Salon")
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="ar")
    return haircut, stylist


def _log_in(base: str, twilio: FakeTwilio, phone: str) -> dict:
    """Log in by code through the API; the code is in the SMS the fake Twilio received."""
    before = len(twilio.sms_to(phone))
    assert httpx.post(f"{base}/api/auth/otp/request/", json={"phone": phone}, timeout=30).status_code == 202
    text = next(r.body for r in twilio.sms_to(phone)[before:] if CODE.search(r.body))
    answer = httpx.post(
        f"{base}/api/auth/otp/verify/", json={"phone": phone, "code": CODE.search(text).group(0)}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _book(base: str, access: str, haircut, stylist, start: datetime) -> int:
    answer = httpx.post(
        f"{base}/api/bookings/",
        json={"service": haircut.pk, "staff": stylist.pk, "start": start.isoformat()},
        headers=_bearer(access),
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def _at(day, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=RIYADH)


def _booking_texts(twilio: FakeTwilio, phone: str) -> list[str]:
    return [r.body for r in twilio.sms_to(phone) if not CODE.search(r.body)]


def test_a_customer_books_exports_and_erases_and_the_phone_is_nowhere(stack, salon, fake_clock):
    haircut, stylist = salon
    clock = fake_clock(timezone.now())
    with FakeTwilio() as twilio:
        env = stack.env(twilio, NOTIFICATION_PROVIDER="twilio", OTP_PROVIDER="twilio", **clock.env())
        stack.worker(env)
        base = stack.web(env)

        first_tokens = _log_in(base, twilio, PHONE)
        today = timezone.now().astimezone(RIYADH).date()
        visit = _book(base, first_tokens["access"], haircut, stylist, _at(today + timedelta(days=1), 10))
        future = _book(base, first_tokens["access"], haircut, stylist, _at(today + timedelta(days=2), 10))
        wait_for(lambda: len(_booking_texts(twilio, PHONE)) == 2, timeout=30, what="the customer's two messages")
        wait_for(lambda: len(_booking_texts(twilio, stylist.phone)) == 2, timeout=30, what="the stylist's two")
        customer = User.objects.get(phone=PHONE)

        # The first appointment is over; the second is still ahead.
        clock.set(_at(today + timedelta(days=1), 12))
        tokens = _log_in(base, twilio, PHONE)
        export = httpx.get(f"{base}/api/me/export/", headers=_bearer(tokens["access"]), timeout=30)
        assert export.status_code == 200
        document = export.json()
        assert [b["id"] for b in document["bookings"]] == [visit, future]
        sent = Notification.objects.filter(recipient=customer).order_by("created_at", "id")
        assert [m["text"] for m in document["messages"]] == [row.message for row in sent]
        assert sorted(m["text"] for m in document["messages"]) == sorted(_booking_texts(twilio, PHONE))

        erased = httpx.delete(f"{base}/api/me/", headers=_bearer(tokens["access"]), timeout=30)
        assert erased.status_code == 204, erased.text

        assert httpx.get(f"{base}/api/me/", headers=_bearer(tokens["access"]), timeout=30).status_code == 401
        for refresh in (tokens["refresh"], first_tokens["refresh"]):
            refused = httpx.post(f"{base}/api/auth/token/refresh/", json={"refresh": refresh}, timeout=30)
            assert refused.status_code == 401
        staff = _log_in(base, twilio, stylist.phone)
        listing = httpx.get(f"{base}/api/bookings/", headers=_bearer(staff["access"]), timeout=30).json()["results"]
        rows = {row["id"]: row for row in listing}
        assert (rows[future]["status"], rows[future]["customer_name"]) == ("cancelled", "")
        assert (rows[visit]["status"], rows[visit]["customer_name"]) == ("pending", "")
        assert not any(form in str(listing) for form in phone_forms(PHONE))
        cancelled = wait_for(
            lambda: [t for t in _booking_texts(twilio, stylist.phone) if t.startswith("تم إلغاء موعد عميل")],
            timeout=30,
            what="the stylist told of the cancellation",
        )
        assert len(cancelled) == 1
        time.sleep(2)  # time for a message to the customer, were one coming
        assert len(_booking_texts(twilio, PHONE)) == 2

        assert places_holding(PHONE) == []

        again = _log_in(base, twilio, PHONE)
        assert again["user_created"] is True
        mine = httpx.get(f"{base}/api/bookings/", headers=_bearer(again["access"]), timeout=30)
        assert mine.status_code == 200 and mine.json()["results"] == []


def _snapshot():
    return (
        list(Notification.objects.order_by("pk").values()),
        list(DeliveryAttempt.objects.order_by("pk").values()),
        list(InboundMessage.objects.order_by("pk").values()),
        list(OneTimeCode.objects.order_by("pk").values()),
    )


def test_retention_past_the_period_redacts_old_messages_once_and_keeps_recent_ones(stack, salon, fake_clock):
    haircut, stylist = salon
    clock = fake_clock(timezone.now())
    with FakeTwilio() as twilio:
        env = stack.env(twilio, NOTIFICATION_PROVIDER="twilio", OTP_PROVIDER="twilio", **clock.env())
        stack.worker(env)
        base = stack.web(env)
        inbound_url = f"{base}/api/webhooks/twilio/inbound/"

        old_tokens = _log_in(base, twilio, PHONE)
        today = timezone.now().astimezone(RIYADH).date()
        old = _book(base, old_tokens["access"], haircut, stylist, _at(today + timedelta(days=1), 10))
        assert twilio.post_inbound(inbound_url, {"From": PHONE, "To": "SALON", "Body": "Running late"}).status_code
        sent = Notification.objects.filter(status="sent")
        wait_for(lambda: sent.filter(booking_id=old).count() == 2, timeout=30, what="the old messages sent")

        clock.set(timezone.now() + timedelta(days=400))
        new_tokens = _log_in(base, twilio, PHONE)
        later = (timezone.now() + timedelta(days=400)).astimezone(RIYADH).date()
        recent = _book(base, new_tokens["access"], haircut, stylist, _at(later + timedelta(days=1), 10))
        assert twilio.post_inbound(inbound_url, {"From": PHONE, "To": "SALON", "Body": "See you"}).status_code
        wait_for(lambda: sent.filter(booking_id=recent).count() == 2, timeout=30, what="the recent messages sent")
        recent_rows = list(Notification.objects.filter(booking_id=recent).order_by("pk").values())
        assert len(recent_rows) == 2 and all(row["message"] and row["phone"] for row in recent_rows)

        output = run_manage(env, "apply_retention")

        assert "2 notifications and 1 inbound messages redacted" in output, output
        old_rows = Notification.objects.filter(booking_id=old)
        assert [(r.message, r.phone, r.status) for r in old_rows] == [("", "", "sent")] * 2
        assert all(a.segments and a.encoding for a in DeliveryAttempt.objects.filter(notification__in=old_rows))
        assert list(Notification.objects.filter(booking_id=recent).order_by("pk").values()) == recent_rows
        replies = dict(InboundMessage.objects.values_list("text", "phone").order_by("received_at"))
        assert replies == {"": "", "See you": PHONE}
        # The first login's code went (used more than a day ago); the second's is kept for a day.
        assert OneTimeCode.objects.filter(phone=PHONE).count() == 1
        snapshot = _snapshot()

        again = run_manage(env, "apply_retention")

        assert "0 notifications and 0 inbound messages redacted" in again and "0 used or expired login codes" in again
        assert _snapshot() == snapshot


def _refuse_quoting_everything(received: Received) -> Reply:
    """Twilio's 21211, with a message that quotes the number and the text (the worst a provider may do)."""
    return Reply(
        400,
        {
            "code": 21211,
            "message": f"The 'To' number {received.to} is not a valid phone number. Body: {received.body}",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )


def test_a_failed_send_leaves_no_number_code_token_or_text_in_logs_or_error_reports(stack, salon):
    haircut, stylist = salon
    customer = UserFactory(phone=PHONE, preferred_language="en")
    from rest_framework_simplejwt.tokens import RefreshToken

    access = str(RefreshToken.for_user(customer).access_token)
    with FakeTwilio(behaviour=_refuse_quoting_everything) as twilio, FakeSentry() as sentry:
        env = stack.env(twilio, NOTIFICATION_PROVIDER="twilio", OTP_PROVIDER="twilio", SENTRY_DSN=sentry.dsn)
        worker = stack.worker(env)
        base = stack.web(env)
        web = stack.processes[-1]

        login = httpx.post(f"{base}/api/auth/otp/request/", json={"phone": PHONE}, headers=_bearer(access), timeout=30)
        assert login.status_code == 503 and login.json()["code"] == "otp_delivery_failed"
        start = _at((timezone.now() + timedelta(days=1)).astimezone(RIYADH).date(), 10)
        booking = _book(base, access, haircut, stylist, start)
        rows = Notification.objects.filter(booking_id=booking)
        wait_for(lambda: rows.filter(status="failed").count() == 2, timeout=30, what="both messages failed")
        wait_for(lambda: len(sentry.events()) >= 3, timeout=30, what="three error reports")
        time.sleep(1)

        logs = worker.log() + web.log()
        reports = sentry.raw()
        events = sentry.events()

    code_text = next(r.body for r in twilio.calls() if r.to == PHONE and CODE.search(r.body))
    code = CODE.search(code_text).group(0)
    texts = [row.message for row in rows]
    assert len(texts) == 2 and all(texts)
    secrets = [*phone_forms(PHONE), PHONE[4:], *phone_forms(stylist.phone), stylist.phone[4:], *texts, code_text, code]
    secrets += [access, access.split(".")[1]]
    for secret in secrets:
        assert secret not in logs, secret
        assert secret not in reports, secret
    # What is there: the refusals, with the numbers masked.
    assert f"to {PHONE[:5]}******{PHONE[-2:]} failed for good via twilio: [21211]" in logs
    assert "OTP delivery failed via twilio: [21211]" in logs and "[personal data]" in logs
    kinds = {e["exception"]["values"][-1]["type"] for e in events if e.get("exception")}
    assert kinds == {"PermanentProviderError"}
    sources = {e.get("logger") for e in events}
    assert {"apps.accounts.services.otp", "apps.notifications.delivery.sending"} <= sources
    frames = [f for e in events for v in e["exception"]["values"] for f in v["stacktrace"]["frames"]]
    send_frame = next(f for f in frames if f["function"] == "send" and "twilio" in f["filename"])
    assert send_frame["vars"]["phone"] == send_frame["vars"]["text"] == send_frame["vars"]["form"] == "[Filtered]"
