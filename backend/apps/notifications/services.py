"""The outbox: which notification rows a booking event creates.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; each row's id is handed to
delivery (``apps.notifications.delivery``) only after commit.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.otp import provider_for_channel
from apps.bookings.models import Booking, BookingStatus
from apps.notifications.delivery import notification_resend, publish_on_commit, retry_deadline
from apps.notifications.messages import CUSTOMER, STAFF, compose, template_for
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus

# A status reached by a transition -> the event both parties hear about.
STATUS_EVENTS = {
    BookingStatus.CONFIRMED: NotificationEvent.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.BOOKING_CANCELLED,
}


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
    unless given. Idempotent per (booking, recipient, event, channel, sequence): a
    ``sent`` or ``skipped`` row is returned untouched, a ``failed`` one is resent
    as it is, a ``pending`` one is published again. A recipient without a phone,
    or who opted out of the channel, gets a ``skipped`` row with the reason.
    """
    channel = channel or recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = CUSTOMER if recipient.pk == booking.customer_id else STAFF
    language = recipient.preferred_language
    text = compose(event=event, audience=audience, language=language, booking=booking, previous_start=previous_start)
    template, variables = template_for(
        event=event, audience=audience, language=language, booking=booking, previous_start=previous_start
    )
    skip_reason = recipient.message_block_reason(channel)
    # No savepoint of its own: the caller's transaction (the booking change) is
    # the unit; get_or_create still guards its INSERT against a concurrent twin.
    with transaction.atomic(savepoint=False):
        notification, created = Notification.objects.get_or_create(
            booking=booking,
            recipient=recipient,
            event=event,
            channel=channel,
            sequence=sequence,
            defaults={
                "message": text,
                "phone": recipient.phone or "",
                "provider": provider_for_channel(channel),
                "template": template,
                "language": language,
                "variables": variables,
                "status": NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
                "reason": skip_reason,
                "retry_until": retry_deadline(timezone.now()),
            },
        )
    if created:
        if not skip_reason:
            publish_on_commit(notification.pk)
    elif notification.status == NotificationStatus.FAILED:
        notification_resend(notification=notification)
    elif notification.status == NotificationStatus.PENDING:
        publish_on_commit(notification.pk)  # harmless if it is being delivered: the claim decides
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
