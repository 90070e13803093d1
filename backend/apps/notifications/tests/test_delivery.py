"""Delivery rules, tested on the service with the provider faked at the HTTP layer."""

import io
from datetime import timedelta

import httpx
import pytest
import respx
from django.core.management import call_command
from django.utils import timezone

from apps.common.tests.factories import BookingFactory, NotificationFactory
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus
from apps.notifications.services import notification_deliver, notification_sweep, retry_delay

pytestmark = pytest.mark.django_db

TWILIO = "https://twilio.test"
SEND = f"{TWILIO}/2010-04-01/Accounts/AC1/Messages.json"
UNAVAILABLE = httpx.Response(503, json={"code": 20500, "message": "Internal Server Error", "status": 503})
RATE_LIMITED = httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429})
INVALID_TO = httpx.Response(400, json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
QUEUED = httpx.Response(201, json={"sid": "SM42", "status": "queued"})


@pytest.fixture
def provider(settings):
    settings.NOTIFICATION_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC1"
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM = "SALON"
    settings.TWILIO_BASE_URL = TWILIO
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with respx.mock(assert_all_called=False) as router:
        yield router.post(SEND)


@pytest.fixture
def pending(now, haircut, stylist, customer):
    booking = BookingFactory(service=haircut, staff=stylist, customer=customer)
    return NotificationFactory(booking=booking, message="Your booking request is received.")


def _deliver(row):
    outcome = notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    return outcome


@pytest.mark.parametrize("answer", [UNAVAILABLE, RATE_LIMITED])
def test_transient_error_keeps_the_row_pending_and_asks_for_a_retry(provider, pending, now, answer):
    provider.mock(return_value=answer)

    outcome = _deliver(pending)

    assert outcome.status == NotificationStatus.PENDING and outcome.retry_in > 0
    assert pending.status == NotificationStatus.PENDING and pending.attempts == 1
    assert pending.reason.startswith("Attempt 1 failed: [20")
    assert pending.claimed_until > timezone.now()  # reserved for the retry, the sweep leaves it


def test_timeout_is_transient(provider, pending):
    provider.mock(side_effect=httpx.ConnectTimeout("slow"))

    assert _deliver(pending).retry_in is not None
    assert "timed out" in pending.reason


def test_permanent_error_fails_at_once_with_the_providers_code(provider, pending):
    provider.mock(return_value=INVALID_TO)

    outcome = _deliver(pending)

    assert outcome.status == NotificationStatus.FAILED and outcome.retry_in is None
    assert (pending.status, pending.attempts) == (NotificationStatus.FAILED, 1)
    assert pending.reason == "[21211] Invalid 'To' Phone Number"


def test_the_last_allowed_attempt_fails_the_row_with_the_last_error(provider, pending, now):
    provider.mock(return_value=UNAVAILABLE)

    for _ in range(3):
        outcome = _deliver(pending)
        now.shift(timedelta(minutes=30))  # past any backoff

    assert outcome.retry_in is None
    assert (pending.status, pending.attempts) == (NotificationStatus.FAILED, 3)
    assert pending.reason == "[20500] Internal Server Error"
    assert provider.call_count == 3


def test_a_retry_before_its_time_waits_for_the_reservation(provider, pending):
    provider.mock(return_value=UNAVAILABLE)
    first = _deliver(pending)

    early = _deliver(pending)

    assert early.retry_in is not None and early.retry_in <= first.retry_in + 0.1
    assert pending.attempts == 1 and provider.call_count == 1


def test_a_sent_row_is_a_no_op(provider, pending):
    provider.mock(return_value=QUEUED)
    assert _deliver(pending).status == NotificationStatus.SENT

    again = _deliver(pending)

    assert (again.status, again.retry_in) == (NotificationStatus.SENT, None)
    assert provider.call_count == 1 and pending.attempts == 1
    assert pending.provider_message_id == "SM42"


def test_in_process_delivery_does_not_retry(provider, pending):
    provider.mock(return_value=UNAVAILABLE)

    outcome = notification_deliver(notification_id=pending.pk, can_retry=False)

    assert outcome.status == NotificationStatus.FAILED


@pytest.mark.parametrize("attempt", [1, 2, 5, 20])
def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings, attempt):
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 2
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 60
    ceiling = min(60, 2 * 2 ** (attempt - 1))

    delays = {retry_delay(attempt) for _ in range(50)}

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(delays) > 1


def test_sweep_queues_stale_unclaimed_pending_rows_only(provider, pending, now, haircut, stylist, customer):
    provider.mock(return_value=QUEUED)
    fresh = Notification.objects.create(
        booking=pending.booking,
        recipient=stylist,
        phone=stylist.phone,
        event=NotificationEvent.BOOKING_CREATED,
        channel="sms",
        provider="twilio",
        message="New booking.",
    )
    Notification.objects.filter(pk=pending.pk).update(updated_at=timezone.now() - timedelta(minutes=5))

    assert notification_sweep(older_than_seconds=120) == 1

    pending.refresh_from_db()
    fresh.refresh_from_db()
    assert pending.status == NotificationStatus.SENT
    assert fresh.status == NotificationStatus.PENDING
    assert notification_sweep(older_than_seconds=120) == 0


def test_sweep_command(provider, pending, now):
    provider.mock(return_value=QUEUED)
    out = io.StringIO()

    call_command("sweep_notifications", "--older-than", "0", stdout=out)

    assert "Queued 1 pending notification(s)." in out.getvalue()
    pending.refresh_from_db()
    assert pending.status == NotificationStatus.SENT


def test_resend_command_gives_failed_rows_a_fresh_budget(provider, pending, now, django_capture_on_commit_callbacks):
    provider.mock(return_value=UNAVAILABLE)
    for _ in range(3):
        _deliver(pending)
        now.shift(timedelta(minutes=30))
    assert pending.status == NotificationStatus.FAILED
    provider.mock(return_value=QUEUED)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("resend_failed_notifications", stdout=out)

    pending.refresh_from_db()
    assert "Queued 1 failed notification(s) again." in out.getvalue()
    assert (pending.status, pending.attempts, pending.attempts_at_requeue) == (NotificationStatus.SENT, 4, 3)
    assert Notification.objects.count() == 1
