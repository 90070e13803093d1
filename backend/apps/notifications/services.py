"""The outbox: which notification rows exist. The one writer of ``Notification`` rows.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; each row's id is handed to
delivery (``apps.notifications.delivery``) only after commit. The SMS that
replaces a WhatsApp message (it failed, or WhatsApp cannot take it) is written
here too, by ``notification_fall_back_to_sms``, with the same rules as any row.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.common.channels import Channel
from apps.common.metrics import count_notification_on_commit
from apps.notifications.delivery.policy import retry_deadline
from apps.notifications.delivery.publishing import publish_many_on_commit, publish_on_commit
from apps.notifications.delivery.resend import notification_resend
from apps.notifications.messages import compose, template_for
from apps.notifications.models import (
    Audience,
    InboundMessage,
    Notification,
    NotificationEvent,
    NotificationStatus,
    Reroute,
    SalonNotificationSettings,
    SkipReason,
)
from apps.notifications.replies import reply_buttons
from apps.notifications.routing import whatsapp_reroute
from integrations.messaging import provider_for_channel

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
    "reroute",
)


def message_block_reason(recipient: User, channel: str) -> str:
    """Why ``recipient`` cannot be messaged on ``channel`` now (a ``SkipReason``, "" when they can)."""
    if not recipient.phone:
        return SkipReason.NO_PHONE
    if recipient.opted_out_of(channel):
        return SkipReason.OPTED_OUT
    return ""


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
    unusable: frozenset | None = None,
) -> Notification:
    """The unsaved row for ``recipient`` about ``event``: channel (the given one,
    else the recipient's preferred one, else NOTIFICATION_DEFAULT_CHANNEL; SMS
    when WhatsApp cannot take it, with the reason), text and WhatsApp template in
    their language (with its quick-reply buttons, where a reply makes sense),
    provider, and ``skipped`` with the reason when they cannot be messaged (or
    ``skip_reason`` says why not). ``unusable``: the unusable WhatsApp templates,
    when the caller read them once for many rows."""
    now = timezone.now()
    channel = channel or recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = Audience.CUSTOMER if recipient.pk == booking.customer_id else Audience.STAFF
    language = recipient.preferred_language
    context = {"event": event, "audience": audience, "language": language, "booking": booking}
    context |= {"previous_start": previous_start, "review_url": review_url}
    template, variables = template_for(**context)
    reroute = ""
    if channel == Channel.WHATSAPP:
        reroute = whatsapp_reroute(recipient, template=template, language=language, now=now, unusable=unusable)
    if reroute:
        channel = Channel.SMS
    skip_reason = skip_reason or message_block_reason(recipient, channel)
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
        retry_until=retry_deadline(now),
        reroute=reroute,
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
            count_notification_on_commit(row, row.status)
    publish_many_on_commit([row.pk for row in created if row.status == NotificationStatus.PENDING])
    return created


def _hand_over(row: Notification) -> None:
    """A new row: pending ones go to delivery after commit; skipped ones are counted."""
    if row.status == NotificationStatus.PENDING:
        publish_on_commit(row.pk)
    else:
        count_notification_on_commit(row, row.status)


def notify_booking_lifecycle(
    booking: Booking,
    event: str,
    *,
    sequence: int = 0,
    previous_start: datetime | None = None,
    fresh: bool = False,
    tell_customer: bool = True,
) -> list[Notification]:
    """Tell the customer and the staff member about ``event`` (one row each).

    ``fresh``: the booking was created in this transaction, so none of its rows can
    exist yet: both are written in one INSERT (the booking request's hot path).
    ``tell_customer=False``: the staff member only (the customer erased their data).
    """
    recipients = [booking.customer] if tell_customer else []
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


def notify_on_status_change(
    booking: Booking, previous_status: str, *, tell_customer: bool = True
) -> list[Notification]:
    """Notify on a transition to a status people must hear about; nothing otherwise.

    Confirmed and cancelled: customer and staff member. Completed (thank-you,
    with the salon's review link) and no-show: the customer only, each if the
    salon's message settings have it on. ``tell_customer=False``: nothing to the
    customer (their data was erased), the staff member as always.
    """
    if booking.status == previous_status:
        return []
    if booking.status in STATUS_EVENTS:
        return notify_booking_lifecycle(booking, STATUS_EVENTS[booking.status], tell_customer=tell_customer)
    if booking.status in AFTER_VISIT_EVENTS and tell_customer:
        event, switch = AFTER_VISIT_EVENTS[booking.status]
        salon_settings = SalonNotificationSettings.for_salon(booking.salon)
        if not getattr(salon_settings, switch):
            return []
        review_url = salon_settings.review_url if event == NotificationEvent.BOOKING_COMPLETED else ""
        return [send_booking_notification(booking, booking.customer, event, review_url=review_url)]
    return []


def notification_fall_back_to_sms(*, notification: Notification, reroute: str) -> Notification | None:
    """The same message once by SMS, for a WhatsApp booking message that cannot
    reach its recipient (it failed for good, or WhatsApp cannot take it now).

    At most one SMS per message, whatever the number of failure reports: the SMS
    row is keyed like any row of that message (and points back to the WhatsApp
    row). The recipient's SMS opt-out and phone apply as to any row; the row is
    delivered like any other, so a reminder whose appointment has started by then
    is ``skipped``. Answers inside a WhatsApp chat (no template) have no SMS twin.
    Call it inside the transaction that records the failure.
    """
    if notification.channel != Channel.WHATSAPP or not notification.template:
        return None
    recipient = notification.recipient
    skip_reason = message_block_reason(recipient, Channel.SMS)
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
            "retry_until": retry_deadline(timezone.now()),
            "fallback_of": notification,
            "reroute": reroute or Reroute.WHATSAPP_FAILED,
        },
    )
    if created:
        _hand_over(fallback)
    return fallback


def send_reply_answer(*, inbound: InboundMessage, booking: Booking, recipient: User, text: str) -> Notification:
    """Answer a person's WhatsApp reply on the channel they wrote on, once per
    inbound message. A free-text message inside the 24-hour window their reply
    opened (no template), so it is retried only within that window."""
    blocked = message_block_reason(recipient, inbound.channel)
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
