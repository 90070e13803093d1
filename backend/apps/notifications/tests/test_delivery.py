"""Delivery rules, tested on the delivery module with the provider faked at the HTTP layer."""

import io
from datetime import timedelta

import httpx
import pytest
import respx
from django.core.management import call_command
from django.utils import timezone

from apps.common.tests.factories import BookingFactory, NotificationFactory
from apps.notifications.delivery.policy import retry_deadline, retry_delay
from apps.notifications.delivery.publishing import notification_sweep
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.models import AttemptOutcome, DeliveryAttempt, Notification, NotificationStatus, SkipReason

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
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 5
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 600
    settings.NOTIFICATION_RETRY_DEADLINE_SECONDS = 6 * 3600
    with respx.mock(assert_all_called=False) as router:
        yield router.post(SEND)


@pytest.fixture
def booking(now, haircut, stylist, customer):
    # A week ahead, so that a six-hour retry deadline comes before the appointment.
    return BookingFactory(
        service=haircut, staff=stylist, customer=customer, start=timezone.now() + timedelta(days=7, hours=2)
    )


@pytest.fixture
def pending(booking):
    return NotificationFactory(
        booking=booking, message="Your booking request is received.", retry_until=retry_deadline(timezone.now())
    )


def _deliver(row):
    outcome = notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    return outcome


def _attempts(row):
    return list(DeliveryAttempt.objects.filter(notification=row).order_by("number"))


@pytest.mark.parametrize("answer", [UNAVAILABLE, RATE_LIMITED])
def test_transient_error_keeps_the_row_pending_and_asks_for_a_retry(provider, pending, now, answer):
    provider.mock(return_value=answer)

    outcome = _deliver(pending)

    assert outcome.status == NotificationStatus.PENDING and outcome.retry_in > 0
    assert pending.status == NotificationStatus.PENDING and pending.attempts == 1
    assert pending.reason.startswith("Attempt 1 failed: [20")
    assert pending.claimed_until > timezone.now()  # reserved for the retry, the sweep leaves it
    (attempt,) = _attempts(pending)
    assert (attempt.number, attempt.outcome, attempt.provider) == (1, AttemptOutcome.TRANSIENT_ERROR, "twilio")
    assert attempt.error_code.startswith("20") and attempt.error_message


def test_timeout_is_transient(provider, pending):
    provider.mock(side_effect=httpx.ConnectTimeout("slow"))

    assert _deliver(pending).retry_in is not None
    assert "timed out" in pending.reason
    assert _attempts(pending)[0].error_code == "timeout"


def test_permanent_error_fails_at_once_with_the_providers_code(provider, pending):
    provider.mock(return_value=INVALID_TO)

    outcome = _deliver(pending)

    assert outcome.status == NotificationStatus.FAILED and outcome.retry_in is None
    assert (pending.status, pending.attempts) == (NotificationStatus.FAILED, 1)
    assert pending.reason == "[21211] Invalid 'To' Phone Number"
    (attempt,) = _attempts(pending)
    assert (attempt.outcome, attempt.error_code) == (AttemptOutcome.PERMANENT_ERROR, "21211")


def _retry_until_done(provider_route, row, now):
    while True:
        outcome = _deliver(row)
        if outcome.retry_in is None:
            return outcome
        now.shift(timedelta(seconds=outcome.retry_in + 0.1))


def test_transient_errors_are_retried_until_the_deadline_in_time_not_a_count(provider, pending, now):
    provider.mock(return_value=UNAVAILABLE)
    queued_at = timezone.now()

    outcome = _retry_until_done(provider, pending, now)

    # Six hours of backoff capped at ten minutes: far more than a handful of tries.
    assert outcome.status == NotificationStatus.FAILED
    assert pending.attempts > 30 and provider.call_count == pending.attempts
    assert timezone.now() - queued_at <= timedelta(hours=6)
    assert pending.reason.startswith(f"Gave up after {pending.attempts} attempts. Last error: [20500]")
    attempts = _attempts(pending)
    assert [a.number for a in attempts] == list(range(1, pending.attempts + 1))
    assert {a.outcome for a in attempts} == {AttemptOutcome.TRANSIENT_ERROR}


def test_a_provider_back_after_an_hour_still_gets_the_message(provider, pending, now):
    back_at = timezone.now() + timedelta(hours=1)
    provider.mock(side_effect=lambda request: QUEUED if timezone.now() >= back_at else UNAVAILABLE)

    outcome = _retry_until_done(provider, pending, now)

    assert outcome.status == NotificationStatus.SENT
    assert pending.provider_message_id == "SM42" and pending.sent_at >= back_at
    assert _attempts(pending)[-1].outcome == AttemptOutcome.SENT


def test_a_message_about_an_appointment_is_never_sent_after_it_starts(provider, now, haircut, stylist, customer):
    soon = BookingFactory(
        service=haircut, staff=stylist, customer=customer, start=timezone.now() + timedelta(minutes=20)
    )
    row = NotificationFactory(booking=soon, event="booking_reminder", retry_until=retry_deadline(timezone.now()))
    provider.mock(return_value=UNAVAILABLE)

    outcome = _retry_until_done(provider, row, now)

    assert outcome.status == NotificationStatus.SKIPPED
    assert row.reason == SkipReason.APPOINTMENT_STARTED
    assert _attempts(row)[-1].error_code == "20500"  # the last error stays on its attempt
    assert timezone.now() < soon.start  # it gave up before the start, not after
    assert all(a.finished_at < soon.start for a in _attempts(row))


def test_a_pending_message_found_after_the_start_is_skipped_without_a_provider_call(provider, now, pending):
    provider.mock(return_value=QUEUED)
    now.move_to(pending.booking.start + timedelta(minutes=1))

    outcome = _deliver(pending)

    assert (outcome.status, pending.reason) == (NotificationStatus.SKIPPED, SkipReason.APPOINTMENT_STARTED)
    assert provider.call_count == 0 and pending.attempts == 0


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


def test_two_failures_then_success_leave_three_attempts_with_outcomes_and_timings(provider, pending, now, admin_client):
    provider.mock(side_effect=[UNAVAILABLE, RATE_LIMITED, QUEUED])

    outcome = _retry_until_done(provider, pending, now)

    assert outcome.status == NotificationStatus.SENT and pending.attempts == 3
    attempts = _attempts(pending)
    assert [(a.number, a.outcome, a.error_code, a.provider_message_id) for a in attempts] == [
        (1, AttemptOutcome.TRANSIENT_ERROR, "20500", ""),
        (2, AttemptOutcome.TRANSIENT_ERROR, "20429", ""),
        (3, AttemptOutcome.SENT, "", "SM42"),
    ]
    assert all(a.started_at <= a.finished_at for a in attempts)
    assert attempts[0].finished_at < attempts[1].started_at < attempts[2].started_at  # backoff between them

    page = admin_client.get(f"/admin/notifications/notification/{pending.pk}/change/").content.decode()
    for line in ("attempt 1: Transient error (retried)", "attempt 2: Transient error (retried)", "attempt 3: Sent"):
        assert line in page
    assert "SM42" in page
    assert "Too Many Requests" in page and "Internal Server Error" in page


def test_a_transient_error_in_process_leaves_the_row_for_the_sweep(api, provider, now, haircut, stylist, customer):
    """Without a worker to come back later (eager tasks), the row stays pending and
    reserved until its retry time; the sweep publishes it then."""
    provider.mock(side_effect=[UNAVAILABLE, UNAVAILABLE, QUEUED, QUEUED])
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": "2026-03-01T10:00:00+03:00"}
    )
    rows = Notification.objects.filter(booking_id=response.json()["id"])
    assert set(rows.values_list("status", flat=True)) == {NotificationStatus.PENDING}

    now.shift(timedelta(minutes=5))
    notification_sweep()

    assert set(rows.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert sorted(rows.values_list("attempts", flat=True)) == [2, 2]


@pytest.mark.parametrize("attempt", [1, 2, 5, 20])
def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings, attempt):
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 2
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 60
    ceiling = min(60, 2 * 2 ** (attempt - 1))

    delays = {retry_delay(attempt) for _ in range(50)}

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(delays) > 1


def test_sweep_queues_stale_unclaimed_pending_rows_only(provider, pending, now, stylist):
    provider.mock(return_value=QUEUED)
    fresh = NotificationFactory(booking=pending.booking, recipient=stylist, message="New booking.")
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
