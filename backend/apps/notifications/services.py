"""The outbox: which notification rows a booking event creates.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; each row's id is handed to
delivery (``apps.notifications.delivery``) only after commit.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.otp import provider_for_channel
from apps.bookings.models import Booking, BookingStatus
from apps.common.channels import Channel
from apps.notifications.delivery import (
    count_outcome,
    notification_resend,
    publish_many_on_commit,
    publish_on_commit,
    retry_deadline,
)
from apps.notifications.messages import CUSTOMER, STAFF, compose, template_for
from apps.notifications.models import (
    InboundMessage,
    Notification,
    NotificationEvent,
    NotificationStatus,
    SalonNotificationSettings,
)
from apps.notifications.replies import reply_buttons

# A status reached by a transition -> the event both parties hear about.
STATUS_EVENTS = {
    BookingStatus.CONFIRMED: NotificationEvent.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationEvent.BOOKING_CANCELLED,
}
# After the visit, the customer only, if the salon's settings say so.
AFTER_VISIT_EVENTS = {
    BookingStatus.COMPLETED: (NotificationEvent.BOOKING_COMPLETED, "send_completed"),
    BookingStatus.NO_SHOW: (NotificationEvent.BOOKING_NO_SHOW, "send_no_show"),
}
# What makes a row unique (with the constraints on Notification), and the rest.
KEY_FIELDS = ("booking", "recipient", "event", "channel", "sequence", "reminder_offset_minutes")
CONTENT_FIELDS = (
    "message",
    "phone",
    "provider",
    "template",
    "language",
    "variables",
    "buttons",
    "status",
    "reason",
    "retry_until",
)


def build_notification(
    booking: Booking,
    recipient: User,
    event: str,
    *,
    sequence: int = 0,
    previous_start: datetime | None = None,
    channel: str | None = None,
    reminder_offset_minutes: int = 0,
    review_url: str = "",
    skip_reason: str = "",
) -> Notification:
    """The unsaved row for ``recipient`` about ``event``: channel (the recipient's
    preferred one, else NOTIFICATION_DEFAULT_CHANNEL, unless given), text and
    WhatsApp template in their language (with its quick-reply buttons, where a
    reply makes sense), provider, and ``skipped`` with the reason when they
    cannot be messaged (or ``skip_reason`` says why not)."""
    channel = channel or recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = CUSTOMER if recipient.pk == booking.customer_id else STAFF
    language = recipient.preferred_language
    context = {"event": event, "audience": audience, "language": language, "booking": booking}
    context |= {"previous_start": previous_start, "review_url": review_url}
    template, variables = template_for(**context)
    skip_reason = skip_reason or recipient.message_block_reason(channel)
    buttons = (
        reply_buttons(booking=booking, recipient_id=recipient.pk, event=event, audience=audience)
        if channel == Channel.WHATSAPP
        else []
    )
    return Notification(
        booking=booking,
        recipient=recipient,
        event=event,
        channel=channel,
        sequence=sequence,
        reminder_offset_minutes=reminder_offset_minutes,
        message=compose(**context),
        phone=recipient.phone or "",
        provider=provider_for_channel(channel),
        template=template,
        language=language,
        variables=variables,
        buttons=buttons,
        status=NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
        reason=skip_reason,
        retry_until=retry_deadline(timezone.now()),
    )


def send_booking_notification(booking: Booking, recipient: User, event: str, **options) -> Notification:
    """Record the message for ``recipient`` about ``event`` and deliver it after commit.

    ``options`` are those of ``build_notification``. Idempotent per (booking,
    recipient, event, channel, move, reminder offset): a ``sent`` or ``skipped``
    row is returned untouched, a ``failed`` one is resent as it is, a ``pending``
    one is published again. A recipient without a phone, or who opted out of the
    channel, gets a ``skipped`` row with the reason.
    """
    row = build_notification(booking, recipient, event, **options)
    # No savepoint of its own: the caller's transaction (the booking change) is
    # the unit; get_or_create still guards its INSERT against a concurrent twin.
    with transaction.atomic(savepoint=False):
        notification, created = Notification.objects.get_or_create(
            **{field: getattr(row, field) for field in KEY_FIELDS},
            defaults={field: getattr(row, field) for field in CONTENT_FIELDS},
        )
    if created:
        _hand_over(notification)
    elif notification.status == NotificationStatus.FAILED:
        notification_resend(notification=notification)
    elif notification.status == NotificationStatus.PENDING:
        publish_on_commit(notification.pk)  # harmless if it is being delivered: the claim decides
    return notification


def record_notifications(rows: list[Notification]) -> list[Notification]:
    """Write new rows (built by ``build_notification``, known not to exist yet) in
    one INSERT, and deliver the pending ones after commit. Used for the many rows
    of a reminder scan; the unique constraints still refuse a twin."""
    created = Notification.objects.bulk_create(rows)
    for row in created:
        if row.status != NotificationStatus.PENDING:
            count_outcome(row, row.status)
    publish_many_on_commit([row.pk for row in created if row.status == NotificationStatus.PENDING])
    return created


def _hand_over(row: Notification) -> None:
    """A new row: pending ones go to delivery after commit; skipped ones are counted."""
    if row.status == NotificationStatus.PENDING:
        publish_on_commit(row.pk)
    else:
        count_outcome(row, row.status)


def notify_booking_lifecycle(
    booking: Booking,
    event: str,
    *,
    sequence: int = 0,
    previous_start: datetime | None = None,
    fresh: bool = False,
) -> list[Notification]:
    """Tell the customer and the staff member about ``event`` (one row each).

    ``fresh``: the booking was created in this transaction, so none of its rows can
    exist yet: both are written in one INSERT (the booking request's hot path).
    """
    recipients = [booking.customer]
    if booking.staff_id != booking.customer_id:
        recipients.append(booking.staff)
    if fresh:
        return record_notifications(
            [
                build_notification(booking, recipient, event, sequence=sequence, previous_start=previous_start)
                for recipient in recipients
            ]
        )
    return [
        send_booking_notification(booking, recipient, event, sequence=sequence, previous_start=previous_start)
        for recipient in recipients
    ]


def notify_on_status_change(booking: Booking, previous_status: str) -> list[Notification]:
    """Notify on a transition to a status people must hear about; nothing otherwise.

    Confirmed and cancelled: customer and staff member. Completed (thank-you,
    with the salon's review link) and no-show: the customer only, each if the
    salon's message settings have it on.
    """
    if booking.status == previous_status:
        return []
    if booking.status in STATUS_EVENTS:
        return notify_booking_lifecycle(booking, STATUS_EVENTS[booking.status])
    if booking.status in AFTER_VISIT_EVENTS:
        event, switch = AFTER_VISIT_EVENTS[booking.status]
        salon_settings = SalonNotificationSettings.for_salon(booking.salon)
        if not getattr(salon_settings, switch):
            return []
        review_url = salon_settings.review_url if event == NotificationEvent.BOOKING_COMPLETED else ""
        return [send_booking_notification(booking, booking.customer, event, review_url=review_url)]
    return []


def send_reply_answer(*, inbound: InboundMessage, booking: Booking, recipient: User, text: str) -> Notification:
    """Answer a person's WhatsApp reply on the channel they wrote on, once per
    inbound message. A free-text message inside the 24-hour window their reply
    opened (no template), so it is retried only within that window."""
    blocked = recipient.message_block_reason(inbound.channel)
    window_ends = inbound.received_at + timedelta(hours=24)
    notification, created = Notification.objects.get_or_create(
        inbound=inbound,
        defaults={
            "booking": booking,
            "recipient": recipient,
            "event": NotificationEvent.REPLY_ANSWER,
            "channel": inbound.channel,
            "message": text,
            "phone": recipient.phone or "",
            "provider": provider_for_channel(inbound.channel),
            "language": recipient.preferred_language,
            "status": NotificationStatus.SKIPPED if blocked else NotificationStatus.PENDING,
            "reason": blocked,
            "retry_until": min(retry_deadline(timezone.now()), window_ends),
        },
    )
    if created:
        _hand_over(notification)
    return notification
