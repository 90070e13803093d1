"""Delivery: one notification row, by its id, from ``pending`` to ``sent``,
``failed`` or ``skipped``.

This module never decides which rows exist (that is the outbox,
``apps.notifications.services``); it publishes a row's id, claims the row,
calls the provider, records each call as a ``DeliveryAttempt``, retries
transient errors until a deadline, falls back from WhatsApp to SMS, records the
provider's delivery reports, and resends a failed row as it is.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import NO_PHONE_REASON, OPTED_OUT_REASON
from apps.accounts.services.otp import ProviderError, RecipientOptedOut, Template, get_provider, provider_for_channel
from apps.accounts.services.users import user_opt_out
from apps.bookings.models import ACTIVE_STATUSES
from apps.common.channels import Channel
from apps.common.metrics import DELIVERY_ATTEMPTS, NOTIFICATIONS
from apps.notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Notification,
    NotificationEvent,
    NotificationStatus,
)
from salon_api.celery import app as celery_app

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.send"
SEND_MANY_TASK = "notifications.send_many"

# Messages about an appointment still ahead: pointless once it has started.
ABOUT_AN_UPCOMING_APPOINTMENT = frozenset(
    {
        NotificationEvent.BOOKING_CREATED,
        NotificationEvent.BOOKING_CONFIRMED,
        NotificationEvent.BOOKING_CANCELLED,
        NotificationEvent.BOOKING_RESCHEDULED,
        NotificationEvent.BOOKING_REMINDER,
    }
)
APPOINTMENT_STARTED_REASON = "The appointment started before this message could be sent."
BOOKING_MOVED_REASON = "The booking was moved after this reminder was written; its reminders follow the new time."


# --- publishing -------------------------------------------------------------------------
def publish_now_rollback_unsafe(notification_id: int, *, countdown: float | None = None) -> bool:
    """Publish ``notifications.send(id)`` at once, whatever transaction is open.

    If the caller's transaction later rolls back, the task is out anyway: call it
    only for rows that are already committed (the sweep, a commit hook). Returns
    whether the broker took it; an unreachable broker is logged, not raised, and
    the row stays ``pending`` for the sweep.
    """
    try:
        celery_app.tasks[SEND_TASK].apply_async((notification_id,), countdown=countdown)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("Could not publish notification %s (the sweep will retry): %s", notification_id, exc)
        return False
    return True


def publish_on_commit(notification_id: int) -> None:
    """Publish the row's id once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(partial(publish_now_rollback_unsafe, notification_id), robust=True)


def publish_many_now_rollback_unsafe(notification_ids: list[int]) -> bool:
    """Publish several committed rows in one message, ``notifications.send_many(ids)``:
    the worker that takes it publishes one ``notifications.send`` for each but the
    first, which it delivers itself. One publish instead of many on the path that
    made the rows (a booking request, a reminder scan). Same danger as above."""
    if len(notification_ids) == 1:
        return publish_now_rollback_unsafe(notification_ids[0])
    try:
        celery_app.tasks[SEND_MANY_TASK].apply_async((list(notification_ids),))
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("Could not publish %s notifications (the sweep will retry): %s", len(notification_ids), exc)
        return False
    return True


def publish_many_on_commit(notification_ids: list[int]) -> None:
    """Publish these rows' ids, in one message, once the current transaction commits."""
    if notification_ids:
        transaction.on_commit(partial(publish_many_now_rollback_unsafe, list(notification_ids)), robust=True)


def retry_deadline(now: datetime) -> datetime:
    """When a row queued ``now`` stops being retried (NOTIFICATION_RETRY_DEADLINE_SECONDS)."""
    return now + timedelta(seconds=settings.NOTIFICATION_RETRY_DEADLINE_SECONDS)


def stale_reason(notification: Notification, now: datetime) -> str:
    """Why sending this row now would make no sense ("" when it still does)."""
    booking = notification.booking
    if notification.event in ABOUT_AN_UPCOMING_APPOINTMENT and now >= booking.start:
        return APPOINTMENT_STARTED_REASON
    if notification.event == NotificationEvent.BOOKING_REMINDER:
        # Reminders are for bookings still pending or confirmed, at their current time.
        if booking.status not in ACTIVE_STATUSES:
            return f"The booking is {booking.get_status_display().lower()}: no reminder."
        if booking.reschedule_count != notification.sequence:
            return BOOKING_MOVED_REASON
    return ""


# --- delivering one row -----------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery run did; ``retry_in`` is set when it should run again."""

    status: str
    retry_in: float | None = None


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base * 2^(attempt-1), capped, never below half of it."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1),
    )
    # Jitter spreads the retries of a provider outage; it is not a security value.
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311


def notification_deliver(*, notification_id: int) -> DeliveryOutcome:
    """Send one pending notification through its provider and record the outcome.

    Safe to run twice or concurrently: the row is claimed with one conditional
    UPDATE (status ``pending`` and no live claim), so only one run calls the
    provider; the others, and any run after it was sent, change nothing. Every
    provider call is a ``DeliveryAttempt``. A transient error keeps the row
    ``pending`` and asks for a retry after a backoff until the row's
    ``retry_until`` (then ``failed``); a message about an appointment that has
    started is ``skipped`` instead of sent late. A permanent error fails at once;
    on WhatsApp it falls back to one SMS row.
    """
    now = timezone.now()
    claimed = _claimable(notification_id, now).update(
        claimed_until=now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS), updated_at=now
    )
    if not claimed:
        return _not_claimed(notification_id, now)

    notification = Notification.objects.select_related("booking").get(pk=notification_id)
    stale = stale_reason(notification, now)
    if stale:
        if _pending(notification_id).update(
            status=NotificationStatus.SKIPPED, reason=stale, claimed_until=None, updated_at=now
        ):
            count_outcome(notification, NotificationStatus.SKIPPED)
        return DeliveryOutcome(status=NotificationStatus.SKIPPED)

    started_at = timezone.now()
    try:
        message_id = get_provider(notification.provider).send(
            notification.phone, notification.message, notification.channel, _template(notification)
        )
    except RecipientOptedOut as exc:
        # They replied STOP on this channel: remember it, and send nothing more there.
        user_opt_out(user_id=notification.recipient_id, channel=notification.channel)
        _record(
            notification,
            started_at=started_at,
            outcome=AttemptOutcome.OPTED_OUT,
            error=exc,
            status=NotificationStatus.FAILED,
            reason=f"{OPTED_OUT_REASON}: {exc}"[:1000],
        )
        return DeliveryOutcome(status=NotificationStatus.FAILED)
    except ProviderError as exc:
        if exc.transient:
            return _after_transient_error(notification, started_at=started_at, error=exc)
        logger.warning("Notification %s failed via %s: %s", notification_id, notification.provider, exc)
        with transaction.atomic():
            failed = _record(
                notification,
                started_at=started_at,
                outcome=AttemptOutcome.PERMANENT_ERROR,
                error=exc,
                status=NotificationStatus.FAILED,
                reason=str(exc)[:1000],
            )
            # Booking messages (templates) fall back to SMS; an answer in a chat does not.
            if failed and notification.channel == Channel.WHATSAPP and notification.template:
                _fall_back_to_sms(notification)
        return DeliveryOutcome(status=NotificationStatus.FAILED)
    _record(
        notification,
        started_at=started_at,
        outcome=AttemptOutcome.SENT,
        provider_message_id=message_id[:128],
        status=NotificationStatus.SENT,
        reason="",
        sent_at=timezone.now(),
    )
    return DeliveryOutcome(status=NotificationStatus.SENT)


def _pending(notification_id: int):
    return Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)


def _claimable(notification_id: int, now: datetime):
    return _pending(notification_id).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))


def _not_claimed(notification_id: int, now: datetime) -> DeliveryOutcome:
    row = Notification.objects.filter(pk=notification_id).values("status", "claimed_until").first()
    if row is None:
        return DeliveryOutcome(status="missing")
    if row["status"] == NotificationStatus.PENDING and row["claimed_until"]:
        # Another run holds it, or this is a scheduled retry whose timer fired a
        # moment early: look again when that claim ends. If the holder has sent
        # it by then, that run does nothing.
        wait = max((row["claimed_until"] - now).total_seconds(), 0) + 0.05
        return DeliveryOutcome(status=row["status"], retry_in=wait)
    return DeliveryOutcome(status=row["status"])


def _template(notification: Notification) -> Template | None:
    if not notification.template:
        return None
    return Template(
        name=notification.template,
        language=notification.language,
        variables=list(notification.variables),
        buttons=list(notification.buttons),
    )


def _after_transient_error(
    notification: Notification, *, started_at: datetime, error: ProviderError
) -> DeliveryOutcome:
    number = notification.attempts + 1
    delay = retry_delay(number)
    retry_at = timezone.now() + timedelta(seconds=delay)
    give_up_at = notification.retry_until or retry_deadline(notification.created_at)
    if notification.event in ABOUT_AN_UPCOMING_APPOINTMENT and retry_at >= notification.booking.start:
        status, reason = NotificationStatus.SKIPPED, f"{APPOINTMENT_STARTED_REASON} Last error: {error}"
    elif retry_at >= give_up_at:
        status, reason = NotificationStatus.FAILED, f"Gave up after {number} attempts. Last error: {error}"
    else:
        logger.info("Notification %s attempt %s failed, retry in %.1fs: %s", notification.pk, number, delay, error)
        _record(
            notification,
            started_at=started_at,
            outcome=AttemptOutcome.TRANSIENT_ERROR,
            error=error,
            reason=f"Attempt {number} failed: {error}"[:1000],
            # Reserve the row for the scheduled retry so the sweep leaves it alone.
            claimed_until=retry_at,
        )
        return DeliveryOutcome(status=NotificationStatus.PENDING, retry_in=delay)
    logger.warning("Notification %s %s via %s: %s", notification.pk, status, notification.provider, reason)
    _record(
        notification,
        started_at=started_at,
        outcome=AttemptOutcome.TRANSIENT_ERROR,
        error=error,
        status=status,
        reason=reason[:1000],
    )
    return DeliveryOutcome(status=status)


@transaction.atomic
def _record(
    notification: Notification,
    *,
    started_at: datetime,
    outcome: str,
    error: ProviderError | None = None,
    provider_message_id: str = "",
    **changes,
) -> bool:
    """Write the attempt and the row's new state together; return whether the row
    was still ``pending`` (a run whose claim ran out does not overwrite what
    another run recorded since, but its provider call is still on record)."""
    now = timezone.now()
    attempts = Notification.objects.select_for_update().filter(pk=notification.pk).values_list("attempts", flat=True)
    number = attempts.get() + 1
    DeliveryAttempt.objects.create(
        notification_id=notification.pk,
        number=number,
        provider=notification.provider,
        started_at=started_at,
        finished_at=now,
        outcome=outcome,
        provider_message_id=provider_message_id,
        error_code=(error.code if error else "")[:64],
        error_message=(error.message if error else "")[:1000],
    )
    if provider_message_id:
        changes["provider_message_id"] = provider_message_id
    changes.setdefault("claimed_until", None)
    updated = _pending(notification.pk).update(attempts=number, updated_at=now, **changes)
    if not updated:
        Notification.objects.filter(pk=notification.pk).update(attempts=number)
    channel, provider = notification.channel, notification.provider
    transaction.on_commit(lambda: DELIVERY_ATTEMPTS.labels(channel, provider, outcome).inc())
    if updated and changes.get("status") in FINAL_STATUSES:
        count_outcome(notification, changes["status"])
    return bool(updated)


FINAL_STATUSES = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SKIPPED)


def count_outcome(notification: Notification, status: str) -> None:
    """Count a row that reached an outcome, once the transaction that wrote it commits."""
    labels = (notification.event, notification.channel, notification.provider, status)
    transaction.on_commit(lambda: NOTIFICATIONS.labels(*labels).inc())


def _fall_back_to_sms(notification: Notification) -> None:
    """After WhatsApp refused a message for good, send the same text once by SMS,
    as its own row (the audit shows both). Called inside the outcome's transaction."""
    recipient = notification.recipient
    skip_reason = recipient.message_block_reason(Channel.SMS)
    now = timezone.now()
    fallback, created = Notification.objects.get_or_create(
        booking_id=notification.booking_id,
        recipient=recipient,
        event=notification.event,
        channel=Channel.SMS,
        sequence=notification.sequence,
        # Each reminder (24 h, 2 h, ...) is its own message: its own fallback.
        reminder_offset_minutes=notification.reminder_offset_minutes,
        defaults={
            "message": notification.message,
            "phone": recipient.phone or "",
            "provider": provider_for_channel(Channel.SMS),
            "language": notification.language,
            "status": NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
            "reason": skip_reason,
            "retry_until": notification.retry_until or retry_deadline(now),
        },
    )
    if created and not skip_reason:
        publish_on_commit(fallback.pk)


# --- rows nobody is delivering, and rows people ask to send again ----------------------------
def notification_sweep(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Publish again every ``pending`` notification untouched for a while and not
    claimed, e.g. because the broker was down at commit or a worker died.

    Returns how many were published. Running it while nothing is stuck does nothing.
    """
    now = timezone.now()
    age = settings.NOTIFICATION_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    stale = (
        Notification.objects.filter(status=NotificationStatus.PENDING, updated_at__lte=now - timedelta(seconds=age))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(stale)
    for notification_id in ids:
        publish_now_rollback_unsafe(notification_id)  # the rows are committed: nothing to roll back
    if ids:
        logger.info("Sweep published %s pending notification(s) again.", len(ids))
    return len(ids)


class ResendResult(StrEnum):
    QUEUED = "queued"
    NOT_FAILED = "not_failed"
    NO_PHONE = "no_phone"
    OPTED_OUT = "opted_out"
    APPOINTMENT_STARTED = "appointment_started"


RESEND_RESULT_TEXT = {
    ResendResult.QUEUED: "queued again",
    ResendResult.NOT_FAILED: "not failed (nothing to resend)",
    ResendResult.NO_PHONE: "recipient has no phone",
    ResendResult.OPTED_OUT: "recipient opted out of the channel",
    ResendResult.APPOINTMENT_STARTED: "the appointment has started",
}


@transaction.atomic
def notification_resend(*, notification: Notification) -> ResendResult:
    """Queue exactly this failed row again: same channel, text and template, a fresh
    retry deadline, the recipient's current phone and the channel's current provider.

    Nothing else changes. A row that is not ``failed``, whose recipient has no
    phone or opted out of its channel, or about an appointment that has started,
    stays as it is, and the result says why.
    """
    now = timezone.now()
    row = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient", "booking")
        .get(pk=notification.pk)
    )
    if row.status != NotificationStatus.FAILED:
        return ResendResult.NOT_FAILED
    blocked = row.recipient.message_block_reason(row.channel)
    if blocked == NO_PHONE_REASON:
        return ResendResult.NO_PHONE
    if blocked:
        return ResendResult.OPTED_OUT
    if stale_reason(row, now):
        return ResendResult.APPOINTMENT_STARTED
    row.phone = row.recipient.phone
    row.provider = provider_for_channel(row.channel)
    row.status, row.reason, row.claimed_until = NotificationStatus.PENDING, "", None
    row.retry_until = retry_deadline(now)
    row.save(update_fields=["phone", "provider", "status", "reason", "claimed_until", "retry_until", "updated_at"])
    publish_on_commit(row.pk)
    return ResendResult.QUEUED


# --- what the provider tells us afterwards ----------------------------------------------
# Delivery reports: later stages win; a report for an earlier stage is ignored.
DELIVERY_STAGE = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}


@transaction.atomic
def notification_record_delivery(
    *, provider_message_id: str, status: str, at: datetime, error: str = ""
) -> Notification | None:
    """Record a provider's delivery report on the matching notification.

    Reports arrive late and out of order: one for an earlier stage than the one
    recorded (``sent`` after ``delivered``) changes nothing. Unknown message ids
    and statuses are ignored. Returns the notification, or None if none matches.
    """
    status = (status or "").lower()
    # A NUL byte cannot be in any id we stored, and PostgreSQL refuses it in a query.
    if not provider_message_id or "\x00" in provider_message_id or status not in DELIVERY_STAGE:
        return None
    notification = Notification.objects.select_for_update().filter(provider_message_id=provider_message_id).first()
    if notification is None:
        return None
    if DELIVERY_STAGE[status] <= DELIVERY_STAGE.get(notification.delivery_status, -1):
        return notification
    notification.delivery_status = status
    notification.delivery_updated_at = at
    if status in ("delivered", "read") and notification.delivered_at is None:
        notification.delivered_at = at
    if status == "read":
        notification.read_at = at
    if status in ("undelivered", "failed") and error:
        notification.reason = error[:1000]
    notification.save()
    return notification
