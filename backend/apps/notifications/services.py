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
from apps.accounts.services.otp import ProviderError, RecipientOptedOut, Template, get_provider, provider_for_channel
from apps.bookings.models import Booking, BookingStatus
from apps.notifications.messages import CUSTOMER, STAFF, compose, template_for
from apps.notifications.models import Notification, NotificationChannel, NotificationEvent, NotificationStatus

logger = logging.getLogger(__name__)

# A status reached by a transition -> the event both parties hear about.
STATUS_EVENTS = {
    BookingStatus.CONFIRMED: NotificationEvent.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.BOOKING_CANCELLED,
}

NO_PHONE_REASON = "Recipient has no phone number."
OPTED_OUT_REASON = "opted_out"


def send_booking_notification(
    booking: Booking,
    recipient: User,
    event: str,
    *,
    sequence: int = 0,
    previous_start: datetime | None = None,
    channel: str | None = None,
) -> Notification:
    """Record the message for ``recipient`` about ``event`` and deliver it after commit.

    The channel is the recipient's preferred one (else NOTIFICATION_DEFAULT_CHANNEL)
    unless given. Idempotent per (booking, recipient, event, channel, sequence): an
    existing ``pending`` or ``failed`` row is refreshed and delivered again, a
    ``sent`` or ``skipped`` row is returned untouched. A recipient without a phone,
    or who opted out of the channel, gets a ``skipped`` row with the reason.
    """
    channel = channel or recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = CUSTOMER if recipient.pk == booking.customer_id else STAFF
    phone = recipient.phone or ""
    language = recipient.preferred_language
    text = compose(event=event, audience=audience, language=language, booking=booking, previous_start=previous_start)
    template, variables = template_for(
        event=event, audience=audience, language=language, booking=booking, previous_start=previous_start
    )
    skip_reason = _skip_reason(recipient, channel)
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
                "provider": provider_for_channel(channel),
                "template": template,
                "language": language,
                "variables": variables,
                "status": NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
                "reason": skip_reason,
            },
        )
        if created:
            if not skip_reason:
                transaction.on_commit(partial(enqueue_delivery, notification.pk), robust=True)
            return notification
        if notification.status in (NotificationStatus.SENT, NotificationStatus.SKIPPED):
            return notification
        _requeue(notification, recipient)
    return notification


def _skip_reason(recipient: User, channel: str) -> str:
    if not recipient.phone:
        return NO_PHONE_REASON
    if recipient.opted_out_of(channel):
        return OPTED_OUT_REASON
    return ""


def _requeue(notification: Notification, recipient: User) -> None:
    """Queue a pending or failed row again. It keeps the text written at the time
    of the event (it describes that moment); phone and provider follow the
    current settings."""
    notification.phone = recipient.phone or ""
    notification.provider = provider_for_channel(notification.channel)
    skip_reason = _skip_reason(recipient, notification.channel)
    if skip_reason:
        notification.status, notification.reason = NotificationStatus.SKIPPED, skip_reason
        notification.save()
        return
    if notification.status == NotificationStatus.FAILED:
        notification.attempts_at_requeue = notification.attempts
    notification.status = NotificationStatus.PENDING
    notification.save()
    transaction.on_commit(partial(enqueue_delivery, notification.pk), robust=True)


@transaction.atomic
def _fall_back_to_sms(notification: Notification) -> Notification | None:
    """After WhatsApp refused a message for good, send the same text once by SMS,
    as its own row (the audit shows both)."""
    recipient = notification.recipient
    skip_reason = _skip_reason(recipient, NotificationChannel.SMS)
    fallback, created = Notification.objects.get_or_create(
        booking_id=notification.booking_id,
        recipient=recipient,
        event=notification.event,
        channel=NotificationChannel.SMS,
        sequence=notification.sequence,
        defaults={
            "message": notification.message,
            "phone": recipient.phone or "",
            "provider": provider_for_channel(NotificationChannel.SMS),
            "language": notification.language,
            "status": NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
            "reason": skip_reason,
        },
    )
    if created and not skip_reason:
        transaction.on_commit(partial(enqueue_delivery, fallback.pk), robust=True)
    return fallback if created else None


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
    template = (
        Template(name=notification.template, language=notification.language, variables=list(notification.variables))
        if notification.template
        else None
    )
    try:
        message_id = get_provider(notification.provider).send(
            notification.phone, notification.message, notification.channel, template
        )
    except RecipientOptedOut as exc:
        # They replied STOP on this channel: remember it, and send nothing more there.
        user_opt_out(user_id=notification.recipient_id, channel=notification.channel)
        still_pending.update(
            status=NotificationStatus.FAILED,
            reason=f"{OPTED_OUT_REASON}: {exc}"[:1000],
            claimed_until=None,
            updated_at=timezone.now(),
        )
        return DeliveryOutcome(status=NotificationStatus.FAILED)
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
        with transaction.atomic():
            failed = still_pending.update(
                status=NotificationStatus.FAILED, reason=str(exc)[:1000], claimed_until=None, updated_at=timezone.now()
            )
            if failed and not exc.transient and notification.channel == NotificationChannel.WHATSAPP:
                _fall_back_to_sms(notification)
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


def user_opt_out(*, user_id: int, channel: str) -> None:
    """Stop messaging a person on a channel (they replied STOP)."""
    field = "whatsapp_opted_out" if channel == NotificationChannel.WHATSAPP else "sms_opted_out"
    User.objects.filter(pk=user_id).update(**{field: True})
