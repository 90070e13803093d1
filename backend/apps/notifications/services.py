"""Booking notifications: which messages an event creates, and their delivery.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; delivery starts only after commit.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.otp import ProviderError, get_provider
from apps.bookings.models import Booking, BookingStatus
from apps.notifications.messages import CUSTOMER, STAFF, compose
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus

logger = logging.getLogger(__name__)

# A status reached by a transition -> the event both parties hear about.
STATUS_EVENTS = {
    BookingStatus.CONFIRMED: NotificationEvent.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.BOOKING_CANCELLED,
}

NO_PHONE_REASON = "Recipient has no phone number."


def send_booking_notification(
    booking: Booking,
    recipient: User,
    event: str,
    *,
    sequence: int = 0,
    previous_start: datetime | None = None,
) -> Notification:
    """Record the message for ``recipient`` about ``event`` and deliver it after commit.

    Idempotent per (booking, recipient, event, channel, sequence): an existing
    ``pending`` or ``failed`` row is refreshed and delivered again, a ``sent`` or
    ``skipped`` row is returned untouched. A recipient without a phone gets a
    ``skipped`` row with the reason.
    """
    channel = settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = CUSTOMER if recipient.pk == booking.customer_id else STAFF
    phone = recipient.phone or ""
    text = compose(
        event=event,
        audience=audience,
        language=recipient.preferred_language,
        booking=booking,
        previous_start=previous_start,
    )
    # No savepoint of its own: the caller's transaction (the booking change) is
    # the unit; get_or_create still guards its INSERT against a concurrent twin.
    with transaction.atomic(savepoint=False):
        notification, created = Notification.objects.select_for_update().get_or_create(
            booking=booking,
            recipient=recipient,
            event=event,
            channel=channel,
            sequence=sequence,
            defaults={
                "message": text,
                "phone": phone,
                "provider": settings.NOTIFICATION_PROVIDER,
                "status": NotificationStatus.PENDING if phone else NotificationStatus.SKIPPED,
                "reason": "" if phone else NO_PHONE_REASON,
            },
        )
        if created:
            if phone:
                transaction.on_commit(partial(enqueue_delivery, notification.pk), robust=True)
            return notification
        if notification.status in (NotificationStatus.SENT, NotificationStatus.SKIPPED):
            return notification

        # An existing row keeps the text written at the time of the event (it
        # describes that moment); phone and provider follow the current settings.
        notification.phone = phone
        notification.provider = settings.NOTIFICATION_PROVIDER
        if not phone:
            notification.status = NotificationStatus.SKIPPED
            notification.reason = NO_PHONE_REASON
            notification.save()
            return notification
        if notification.status == NotificationStatus.FAILED:
            notification.attempts_at_requeue = notification.attempts
        notification.status = NotificationStatus.PENDING
        notification.save()
        transaction.on_commit(partial(enqueue_delivery, notification.pk), robust=True)
    return notification


def notify_booking_lifecycle(
    booking: Booking, event: str, *, sequence: int = 0, previous_start: datetime | None = None
) -> list[Notification]:
    """Tell the customer and the staff member about ``event`` (one row each)."""
    recipients = [booking.customer]
    if booking.staff_id != booking.customer_id:
        recipients.append(booking.staff)
    return [
        send_booking_notification(booking, recipient, event, sequence=sequence, previous_start=previous_start)
        for recipient in recipients
    ]


def notify_on_status_change(booking: Booking, previous_status: str) -> list[Notification]:
    """Notify on a transition to a status people must hear about; nothing otherwise."""
    if booking.status == previous_status:
        return []
    event = STATUS_EVENTS.get(booking.status)
    if event is None:
        return []
    return notify_booking_lifecycle(booking, event)


def enqueue_delivery(notification_id: int, *, countdown: float | None = None) -> bool:
    """Queue one notification for delivery; return whether it was handed over.

    With a broker this publishes the ``notifications.send`` task; without one the
    task runs here and now (embedded setup). A broker that cannot be reached is
    logged, not raised: the row stays ``pending`` and ``notification_sweep``
    queues it again once the broker is back.
    """
    from apps.notifications.tasks import send_notification

    try:
        send_notification.apply_async((notification_id,), countdown=countdown)
    except Exception as exc:  # kombu raises several types for an unreachable broker
        logger.warning("Could not enqueue notification %s (the sweep will retry): %s", notification_id, exc)
        return False
    return True


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery attempt did; ``retry_in`` is set when it should run again."""

    status: str
    retry_in: float | None = None


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base * 2^(attempt-1), capped, never below half of it."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1),
    )
    # Jitter spreads retries of a provider outage; it is not a security value.
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311


def notification_deliver(*, notification_id: int, can_retry: bool = True) -> DeliveryOutcome:
    """Send one pending notification through its provider and record the outcome.

    Safe to run twice or concurrently: the row is claimed with one conditional
    UPDATE (status ``pending`` and no live claim) that also counts the attempt,
    so only one caller sends it; the others, and any caller after it was sent,
    change nothing. A transient provider error keeps the row ``pending`` and asks
    for a retry after a backoff, until ``NOTIFICATION_MAX_ATTEMPTS`` attempts
    (since the last resend) were made; a permanent error, or the last attempt,
    marks it ``failed`` with the provider's reason.
    """
    now = timezone.now()
    claimable = Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )
    claimed = claimable.update(
        claimed_until=now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        row = Notification.objects.filter(pk=notification_id).values("status", "claimed_until").first()
        if row is None:
            return DeliveryOutcome(status="missing")
        if can_retry and row["status"] == NotificationStatus.PENDING and row["claimed_until"]:
            # Another run holds it (or this is a scheduled retry whose timer fired a
            # moment early): look again when that claim ends. If the holder sent
            # it by then, that run does nothing.
            wait = max((row["claimed_until"] - now).total_seconds(), 0) + 0.05
            return DeliveryOutcome(status=row["status"], retry_in=wait)
        return DeliveryOutcome(status=row["status"])

    notification = Notification.objects.get(pk=notification_id)
    # Outcomes are written only while the row is still pending, so a worker whose
    # lease ran out cannot overwrite what another worker recorded since.
    still_pending = Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)
    try:
        message_id = get_provider(notification.provider).send(
            notification.phone, notification.message, notification.channel
        )
    except ProviderError as exc:
        attempts_used = notification.attempts - notification.attempts_at_requeue
        if exc.transient and can_retry and attempts_used < settings.NOTIFICATION_MAX_ATTEMPTS:
            delay = retry_delay(attempts_used)
            logger.info(
                "Notification %s attempt %s failed, retry in %.1fs: %s", notification_id, attempts_used, delay, exc
            )
            still_pending.update(
                reason=f"Attempt {attempts_used} failed: {exc}"[:1000],
                # Reserve the row for the scheduled retry so the sweep leaves it alone.
                claimed_until=timezone.now() + timedelta(seconds=delay),
                updated_at=timezone.now(),
            )
            return DeliveryOutcome(status=NotificationStatus.PENDING, retry_in=delay)
        logger.warning("Notification %s failed via %s: %s", notification_id, notification.provider, exc)
        still_pending.update(
            status=NotificationStatus.FAILED, reason=str(exc)[:1000], claimed_until=None, updated_at=timezone.now()
        )
        return DeliveryOutcome(status=NotificationStatus.FAILED)
    still_pending.update(
        status=NotificationStatus.SENT,
        provider_message_id=message_id[:128],
        reason="",
        sent_at=timezone.now(),
        claimed_until=None,
        updated_at=timezone.now(),
    )
    return DeliveryOutcome(status=NotificationStatus.SENT)


def notification_sweep(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Queue again every ``pending`` notification untouched for a while and not
    claimed, e.g. because the broker was down at commit or a worker died.

    Returns how many were queued. Running it while nothing is stuck does nothing.
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
        enqueue_delivery(notification_id)
    if ids:
        logger.info("Sweep queued %s pending notification(s) again.", len(ids))
    return len(ids)


def notification_resend(*, notification: Notification) -> Notification:
    """Queue a failed notification again with a fresh retry budget (admin action,
    ``resend_failed_notifications`` command). Other rows are returned unchanged."""
    if notification.status != NotificationStatus.FAILED:
        return notification
    return send_booking_notification(
        notification.booking, notification.recipient, notification.event, sequence=notification.sequence
    )
