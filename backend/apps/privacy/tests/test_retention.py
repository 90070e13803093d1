"""Retention: old message texts and phones redacted, spent login codes and expired tokens deleted."""

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import OneTimeCode
from apps.common.tests.factories import RIYADH, BookingFactory, NotificationFactory, UserFactory
from apps.notifications.models import DeliveryAttempt, InboundMessage, Notification
from apps.privacy.services import retention_apply
from apps.privacy.tasks import apply_retention
from apps.privacy.tests.conftest import book

pytestmark = pytest.mark.django_db

LONG_AGO = datetime(2025, 1, 20, 9, 0, tzinfo=RIYADH)  # 404 days before the tests' now


def _snapshot():
    return (
        list(Notification.objects.order_by("pk").values()),
        list(DeliveryAttempt.objects.order_by("pk").values()),
        list(InboundMessage.objects.order_by("pk").values()),
        list(OneTimeCode.objects.order_by("pk").values()),
    )


@pytest.fixture
def history(api, now, customer, haircut, stylist):
    """A visit 404 days ago (messages sent, one failed with the provider's text), a
    reply then, a booking today, login codes and tokens of several ages."""
    now.move_to(LONG_AGO)
    old = book(api, customer, stylist, haircut, "2025-01-22T10:00:00+03:00")
    failed = NotificationFactory(
        booking=old, recipient=stylist, event="booking_confirmed", status="failed", reason="[21211] bad number"
    )
    DeliveryAttempt.objects.create(
        notification=failed, number=1, provider="twilio", started_at=LONG_AGO, finished_at=LONG_AGO,
        outcome="permanent_error", error_code="21211",
        error_message=f"The 'To' number {stylist.phone} is not a valid phone number.",
    )  # fmt: skip
    DeliveryAttempt.objects.filter(notification__booking=old, outcome="sent").update(
        price=Decimal("0.050000"), price_unit="USD"
    )
    pending = NotificationFactory(booking=old, recipient=customer, event="booking_confirmed", status="pending")
    old_reply = InboundMessage.objects.create(
        provider="twilio", provider_message_id="SM-old", channel="sms", phone=customer.phone, user=customer,
        text="Running late", received_at=LONG_AGO, outcome="stored",
    )  # fmt: skip
    expired_token = RefreshToken.for_user(customer)
    now.move_to(datetime(2026, 2, 28, 8, 0, tzinfo=RIYADH))
    recent = book(api, customer, stylist, haircut, "2026-03-01T10:00:00+03:00")
    new_reply = InboundMessage.objects.create(
        provider="twilio", provider_message_id="SM-new", channel="sms", phone=customer.phone, user=customer,
        text="See you", outcome="stored",
    )  # fmt: skip
    moment = timezone.now()
    codes = {
        "expired two days ago": OneTimeCode.objects.create(
            phone=customer.phone, code_hash="a", created_at=moment - timedelta(days=2),
            expires_at=moment - timedelta(days=2) + timedelta(minutes=5),
        ),
        "used two days ago": OneTimeCode.objects.create(
            phone=customer.phone, code_hash="b", created_at=moment - timedelta(days=2, minutes=10),
            expires_at=moment - timedelta(days=2, minutes=5), used_at=moment - timedelta(days=2, minutes=8),
        ),
        "used an hour ago": OneTimeCode.objects.create(
            phone=customer.phone, code_hash="c", created_at=moment - timedelta(hours=1, minutes=2),
            expires_at=moment - timedelta(minutes=57), used_at=moment - timedelta(hours=1),
        ),
        "live": OneTimeCode.objects.create(
            phone=customer.phone, code_hash="d", created_at=moment, expires_at=moment + timedelta(minutes=5)
        ),
    }  # fmt: skip
    live_token = RefreshToken.for_user(customer)
    return {
        "old": old,
        "failed": failed,
        "pending": pending,
        "old_reply": old_reply,
        "recent": recent,
        "new_reply": new_reply,
        "codes": codes,
        "tokens": (expired_token, live_token),
    }


def test_old_messages_lose_text_and_phone_and_keep_what_statistics_need(history, customer, stylist):
    old_rows = Notification.objects.filter(booking=history["old"]).exclude(pk=history["pending"].pk)
    assert old_rows.count() == 3  # created x2 (sent), the failed confirmation
    recent_before = list(Notification.objects.filter(booking=history["recent"]).values())
    assert len(recent_before) == 2 and all(row["message"] and row["phone"] for row in recent_before)

    out = StringIO()
    call_command("apply_retention", stdout=out)

    assert "3 notifications and 1 inbound messages redacted" in out.getvalue()
    assert "Deleted: 2 used or expired login codes, 2 expired tokens" in out.getvalue()  # theirs and the stylist's
    assert [(r.message, r.phone, r.variables, r.buttons) for r in old_rows] == [("", "", [], [])] * 3
    assert {row.reason for row in old_rows} == {""}  # the provider's text went; its code stays on the attempt
    assert sorted(old_rows.values_list("event", "channel", "status")) == [
        ("booking_confirmed", "sms", "failed"),
        ("booking_created", "sms", "sent"),
        ("booking_created", "sms", "sent"),
    ]
    assert all(row.created_at and row.recipient_id for row in old_rows)
    attempts = DeliveryAttempt.objects.filter(notification__in=old_rows).order_by("pk")
    assert len(attempts) == 3
    assert [(a.outcome, a.error_code, a.error_message) for a in attempts][-1] == ("permanent_error", "21211", "")
    sent = [a for a in attempts if a.outcome == "sent"]
    assert len(sent) == 2 and {a.encoding for a in sent} == {"gsm7", "ucs2"}  # English and Arabic texts
    assert all(a.segments and (a.price, a.price_unit) == (Decimal("0.050000"), "USD") for a in sent)
    # A message still in delivery is left to it; today's messages and replies are whole.
    pending = Notification.objects.get(pk=history["pending"].pk)
    assert pending.message == "text" and pending.phone == customer.phone
    assert list(Notification.objects.filter(booking=history["recent"]).values()) == recent_before
    old_reply, new_reply = (InboundMessage.objects.get(pk=history[k].pk) for k in ("old_reply", "new_reply"))
    assert (old_reply.text, old_reply.phone, old_reply.outcome) == ("", "", "stored")
    assert (new_reply.text, new_reply.phone) == ("See you", customer.phone)
    left = set(OneTimeCode.objects.values_list("code_hash", flat=True))
    assert left == {"c", "d"}
    expired, live = history["tokens"]
    assert OutstandingToken.objects.filter(jti=live["jti"]).exists()
    assert not OutstandingToken.objects.filter(jti=expired["jti"]).exists()


def test_running_it_again_changes_nothing_more(history):
    first = retention_apply()
    snapshot = _snapshot()

    second = retention_apply()

    assert (first.notifications, first.inbound_messages, first.login_codes, first.expired_tokens) == (3, 1, 2, 2)
    assert (second.notifications, second.inbound_messages, second.login_codes, second.expired_tokens) == (0, 0, 0, 0)
    assert _snapshot() == snapshot


def test_the_cutoff_is_the_applications_clock_and_the_setting(history, now, settings):
    settings.MESSAGE_RETENTION_DAYS = 1
    now.move_to(timezone.now() + timedelta(hours=12))
    assert retention_apply().notifications == 3  # today's messages are half a day old: kept

    now.move_to(timezone.now() + timedelta(days=1))
    result = retention_apply()

    assert result.notifications == 2 and result.inbound_messages == 1
    assert result.cutoff == timezone.now() - timedelta(days=1)
    assert not Notification.objects.filter(booking=history["recent"]).exclude(message="").exists()


def test_rows_are_redacted_in_batches(now, stylist, haircut):
    customer = UserFactory()
    now.move_to(LONG_AGO)
    for hour in range(5):
        start = LONG_AGO + timedelta(hours=hour)
        booking = BookingFactory(service=haircut, staff=stylist, customer=customer, start=start)
        NotificationFactory(booking=booking, status="sent", message="old text")
    now.move_to(datetime(2026, 2, 28, 8, 0, tzinfo=RIYADH))

    result = retention_apply(batch_size=2)

    assert result.notifications == 5
    assert set(Notification.objects.values_list("message", "phone")) == {("", "")}


def test_the_daily_beat_task_applies_it(history):
    schedule = django_settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert schedule["task"] == "privacy.retention" == apply_retention.name
    assert isinstance(schedule["schedule"], crontab) and schedule["schedule"].hour == {0}

    result = apply_retention.delay().get()

    assert result["notifications"] == 3 and result["login_codes"] == 2
    assert Notification.objects.get(pk=history["failed"].pk).message == ""
