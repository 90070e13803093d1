"""Booking notifications: which messages an event creates, and their delivery.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; delivery starts only after commit.
"""

import logging
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
    text = compose(
        event=event,
        audience=audience,
        language=recipient.preferred_language,
        booking=booking,
        previous_start=previous_start,
    )
    with transaction.atomic():
        notification, created = Notification.objects.select_for_update().get_or_create(
            booking=booking,
            recipient=recipient,
            event=event,
            channel=channel,
            sequence=sequence,
            defaults={"message": text, "phone": recipient.phone or "", "provider": settings.NOTIFICATION_PROVIDER},
        )
        if not created and notification.status in (NotificationStatus.SENT, NotificationStatus.SKIPPED):
            return notification

        # An existing row keeps the text written at the time of the event (it
        # describes that moment); phone and provider follow the current settings.
        notification.phone = recipient.phone or ""
        notification.provider = settings.NOTIFICATION_PROVIDER
        if not recipient.phone:
            notification.status = NotificationStatus.SKIPPED
            notification.reason = NO_PHONE_REASON
            notification.save()
            return notification
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


def enqueue_delivery(notification_id: int) -> None:
    """Hand a committed notification to delivery (in-process in the embedded setup)."""
    notification_deliver(notification_id=notification_id)


def notification_deliver(*, notification_id: int) -> Notification | None:
    """Send one pending notification through its provider and record the outcome.

    Safe to run twice or concurrently: the row is claimed with one conditional
    UPDATE (status ``pending`` and no live claim), so only one caller sends it;
    the others, and any caller after it was sent, return ``None``.
    """
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    notification = Notification.objects.get(pk=notification_id)
    try:
        message_id = get_provider(notification.provider).send(
            notification.phone, notification.message, notification.channel
        )
    except ProviderError as exc:
        logger.warning("Notification %s failed via %s: %s", notification_id, notification.provider, exc)
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.FAILED, reason=str(exc)[:1000], claimed_until=None, updated_at=timezone.now()
        )
    else:
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.SENT,
            provider_message_id=message_id[:128],
            reason="",
            sent_at=timezone.now(),
            claimed_until=None,
            updated_at=timezone.now(),
        )
    notification.refresh_from_db()
    return notification


def notification_resend(*, notification: Notification) -> Notification:
    """Put a failed notification back in the queue (admin action, management command)."""
    if notification.status != NotificationStatus.FAILED:
        return notification
    return send_booking_notification(
        notification.booking, notification.recipient, notification.event, sequence=notification.sequence
    )
