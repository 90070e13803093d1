"""The outbox: which notification rows exist. The one writer of ``Notification`` rows.

Rows are written in the caller's transaction (the booking change), so a
rolled-back change leaves no message behind; each row's id is handed to
delivery (``apps.notifications.delivery``) only after commit. The SMS that
replaces a WhatsApp message (it failed, or WhatsApp cannot take it) is written
here too, by ``notification_fall_back_to_sms``, with the same rules as any row.
Every row carries its class (``EVENT_CLASS``); a promotional one is written under
the promotional rules (``promotional.promotional_gate``: consent, the daytime
window, the ``-AD`` sender and the opt-out link on SMS).

The waiting list offer, the disruption notice (and its one summary per staff
member) and the staff member's agenda are written by ``send_waitlist_offer``,
``send_disruption_notice``, ``send_disruption_summary`` and ``send_staff_agenda``,
through one row builder (``composed_row``): the same channel, reroute and opt-out
rules as any row, the text composed by the caller's composer in ``messages``.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatus
from apps.common.channels import Channel, MessageClass
from apps.common.metrics import count_notification_on_commit
from apps.notifications.delivery.policy import retry_deadline
from apps.notifications.delivery.publishing import publish_many_on_commit, publish_on_commit
from apps.notifications.delivery.resend import notification_resend
from apps.notifications.links import disruption_link, offer_link
from apps.notifications.messages import (
    Composed,
    compose,
    compose_agenda,
    compose_disruption,
    compose_disruption_summary,
    compose_offer,
    template_for,
)
from apps.notifications.models import (
    EVENT_CLASS,
    Audience,
    InboundMessage,
    Notification,
    NotificationEvent,
    NotificationStatus,
    Reroute,
    SalonNotificationSettings,
    SkipReason,
)
from apps.notifications.promotional import promotional_gate, promotional_sms_provider, with_optout_link
from apps.notifications.replies import disruption_buttons, offer_token, reply_buttons
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
    "message_class",
    "claimed_until",
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
    template_notes: dict | None = None,
) -> Notification:
    """The unsaved row for ``recipient`` about ``event``: channel (the given one,
    else the recipient's preferred one, else NOTIFICATION_DEFAULT_CHANNEL; SMS
    when WhatsApp cannot take it, with the reason), text and WhatsApp template in
    their language (with its quick-reply buttons, where a reply makes sense),
    provider, and ``skipped`` with the reason when they cannot be messaged (or
    ``skip_reason`` says why not). A promotional message follows the promotional
    rules (skipped without consent; held until the window opens). ``template_notes``:
    the WhatsApp templates' states, when the caller read them once for many rows."""
    now = timezone.now()
    channel = channel or recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    audience = Audience.CUSTOMER if recipient.pk == booking.customer_id else Audience.STAFF
    language = recipient.preferred_language
    context = {"event": event, "audience": audience, "language": language, "booking": booking}
    context |= {"previous_start": previous_start, "review_url": review_url}
    template, variables = template_for(**context)
    message_class = EVENT_CLASS.get(event, MessageClass.SERVICE)
    reroute = ""
    if channel == Channel.WHATSAPP:
        reroute = whatsapp_reroute(
            recipient, template=template, language=language, message_class=message_class, now=now, notes=template_notes
        )
    if reroute:
        channel = Channel.SMS
    skip_reason = skip_reason or message_block_reason(recipient, channel)
    buttons = (
        reply_buttons(booking=booking, recipient_id=recipient.pk, event=event, audience=audience)
        if channel == Channel.WHATSAPP
        else []
    )
    row = Notification(
        booking=booking,
        recipient=recipient,
        event=event,
        message_class=message_class,
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
    _under_promotional_rules(row, due=now, now=now)
    return row


def _under_promotional_rules(row: Notification, *, due, now) -> None:
    """A promotional row: skipped without consent (or without a lawful SMS route, or
    when it could not go within 24 hours); held until the promotional window opens
    (claimed until then: the sweep hands it over at the opening); on SMS, the
    promotional provider and the opt-out link at the end of the text."""
    if row.message_class != MessageClass.PROMOTIONAL or row.status != NotificationStatus.PENDING:
        return
    gate = promotional_gate(recipient=row.recipient, channel=row.channel, salon=row.booking.salon, due=due, now=now)
    if gate.skip_reason:
        row.status, row.reason = NotificationStatus.SKIPPED, gate.skip_reason
        return
    if row.channel == Channel.SMS:
        row.provider = promotional_sms_provider()
        row.message = with_optout_link(row.message, user_id=row.recipient_id, language=row.language)
    if gate.send_at > now:
        row.claimed_until = gate.send_at


def _ready(row: Notification) -> bool:
    """A pending row that may be handed to delivery now (not held for the promotional window)."""
    return row.status == NotificationStatus.PENDING and (
        row.claimed_until is None or row.claimed_until <= timezone.now()
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
    elif _ready(notification):
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
    publish_many_on_commit([row.pk for row in created if _ready(row)])
    return created


def _hand_over(row: Notification) -> None:
    """A new row: pending ones go to delivery after commit (held ones when the sweep
    finds them at their time); skipped ones are counted."""
    if _ready(row):
        publish_on_commit(row.pk)
    elif row.status != NotificationStatus.PENDING:
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
    now = timezone.now()
    row = Notification(
        booking=notification.booking,
        recipient=recipient,
        event=notification.event,
        message_class=notification.message_class,
        channel=Channel.SMS,
        sequence=notification.sequence,
        # Each reminder (24 h, 2 h, ...) is its own message: its own fallback.
        reminder_offset_minutes=notification.reminder_offset_minutes,
        message=notification.message,
        phone=recipient.phone or "",
        provider=provider_for_channel(Channel.SMS),
        template=notification.template,
        language=notification.language,
        status=NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
        reason=skip_reason,
        retry_until=retry_deadline(now),
        reroute=reroute or Reroute.WHATSAPP_FAILED,
    )
    # A promotional message keeps its due time: the WhatsApp row's.
    _under_promotional_rules(row, due=notification.created_at, now=now)
    # A waiting list offer and an agenda are told once per offer / day: so is their SMS.
    about = {"waitlist_offer": notification.waitlist_offer, "agenda_date": notification.agenda_date}
    fallback, created = Notification.objects.get_or_create(
        **{field: getattr(row, field) for field in KEY_FIELDS},
        **about,
        defaults={field: getattr(row, field) for field in CONTENT_FIELDS} | {"fallback_of": notification},
    )
    if created:
        _hand_over(fallback)
    return fallback


def send_reply_answer(*, inbound: InboundMessage, booking: Booking, recipient: User, text: str) -> Notification:
    """Answer a person's WhatsApp reply on the channel they wrote on, once per
    inbound message. A free-text message inside the 24-hour window their reply
    opened (no template), so it is retried only within that window. At most
    REPLY_ANSWERS_PER_HOUR answers per booking and person in an hour: taps beyond
    that are recorded (the inbound message, and a skipped answer) but not answered."""
    now = timezone.now()
    blocked = message_block_reason(recipient, inbound.channel)
    if not blocked:
        # Counted under the person's row lock: concurrent taps cannot all slip under the limit.
        User.objects.select_for_update().filter(pk=recipient.pk).exists()
        recent = Notification.objects.filter(
            booking=booking,
            recipient=recipient,
            event=NotificationEvent.REPLY_ANSWER,
            created_at__gt=now - timedelta(hours=1),
        ).exclude(status=NotificationStatus.SKIPPED)
        if recent.count() >= settings.REPLY_ANSWERS_PER_HOUR:
            blocked = SkipReason.ANSWER_LIMIT
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
            "retry_until": min(retry_deadline(now), window_ends),
        },
    )
    if created:
        _hand_over(notification)
    return notification


# --- the waiting list, disruptions and the staff member's day ----------------------------------
def composed_row(
    *,
    booking: Booking,
    recipient: User,
    event: str,
    composed: Composed,
    buttons=None,
    sequence: int = 0,
    skip_reason: str = "",
    held_until: datetime | None = None,
    retry_until: datetime | None = None,
    **about,
) -> Notification:
    """The unsaved row for a message whose text the caller composed: channel (the
    recipient's preferred one, else NOTIFICATION_DEFAULT_CHANNEL; SMS when WhatsApp
    cannot take it), provider, ``skipped`` with the reason when they cannot be
    messaged. ``buttons``: a callable giving the WhatsApp buttons' payloads (asked
    only when the row goes by WhatsApp). ``held_until``: not handed to delivery
    before then (the sweep hands it over). ``retry_until``: no retry after then."""
    now = timezone.now()
    channel = recipient.preferred_channel or settings.NOTIFICATION_DEFAULT_CHANNEL
    language = recipient.preferred_language
    message_class = EVENT_CLASS[event]
    reroute = ""
    if channel == Channel.WHATSAPP:
        reroute = whatsapp_reroute(
            recipient, template=composed.template, language=language, message_class=message_class, now=now
        )
    if reroute:
        channel = Channel.SMS
    skip_reason = skip_reason or message_block_reason(recipient, channel)
    deadline = retry_deadline(now)
    return Notification(
        booking=booking,
        recipient=recipient,
        event=event,
        message_class=message_class,
        channel=channel,
        sequence=sequence,
        message=composed.text,
        phone=recipient.phone or "",
        provider=provider_for_channel(channel),
        template=composed.template,
        language=language,
        variables=composed.variables,
        buttons=buttons() if buttons is not None and channel == Channel.WHATSAPP else [],
        status=NotificationStatus.SKIPPED if skip_reason else NotificationStatus.PENDING,
        reason=skip_reason,
        retry_until=min(deadline, retry_until) if retry_until else deadline,
        reroute=reroute,
        claimed_until=held_until if held_until and held_until > now else None,
        **about,
    )


def _write_once(row: Notification, lookup: dict) -> Notification:
    """Write ``row`` unless a row with ``lookup`` exists (the database's unique
    constraints refuse a concurrent twin: the loser gets the winner's row); a new
    pending row goes to delivery after commit."""
    with transaction.atomic(savepoint=False):
        notification, created = Notification.objects.get_or_create(
            **lookup,
            defaults={
                field.name: getattr(row, field.name)
                for field in Notification._meta.concrete_fields
                if field.name not in lookup and not field.primary_key
            },
        )
    if created:
        _hand_over(notification)
    return notification


def send_waitlist_offer(offer) -> Notification:
    """Offer a freed time to a customer on the waiting list (``waitlist_offer``):
    WhatsApp with a "Book it" button, SMS with a link to claim it. Once per offer
    (and channel); held until the offer is valid (a time freed in quiet hours is
    offered when they end); never retried past its expiry."""
    entry = offer.entry
    customer = entry.customer
    minutes = max(1, round((offer.expires_at - offer.valid_from).total_seconds() / 60))
    composed = compose_offer(
        language=customer.preferred_language,
        service=entry.service,
        salon=entry.salon,
        start=offer.start,
        staff_name=offer.staff.name,
        minutes=minutes,
        link=offer_link(offer.pk),
    )
    row = composed_row(
        booking=offer.freed_booking,
        recipient=customer,
        event=NotificationEvent.WAITLIST_OFFER,
        composed=composed,
        buttons=lambda: [offer_token(offer=offer, recipient_id=customer.pk)],
        held_until=offer.valid_from,
        retry_until=offer.expires_at,
        waitlist_offer=offer,
    )
    return _write_once(row, {"waitlist_offer": offer, "event": row.event, "channel": row.channel})


def send_disruption_notice(*, booking: Booking, disruption, options: list) -> Notification:
    """Tell a disrupted booking's customer (``booking_disrupted``): the booking, up to
    three other times as buttons (``options``: objects with ``start``, ``staff_id``
    and ``staff_name``, nearest first) and "Cancel"; on SMS a link to a page with the
    same choices. Once per booking and move."""
    customer = booking.customer
    composed = compose_disruption(
        language=customer.preferred_language,
        booking=booking,
        cause=disruption.cause,
        reason=disruption.reason,
        options=[(option.start, option.staff_name) for option in options],
        link=disruption_link(disruption.pk),
    )
    row = composed_row(
        booking=booking,
        recipient=customer,
        event=NotificationEvent.BOOKING_DISRUPTED,
        composed=composed,
        buttons=lambda: disruption_buttons(
            booking=booking,
            recipient_id=customer.pk,
            options=[(option.start, option.staff_id) for option in options],
        ),
        sequence=booking.reschedule_count,
        retry_until=booking.start,
    )
    return _write_once(row, {field: getattr(row, field) for field in KEY_FIELDS})


def send_disruption_summary(*, staff: User, bookings: list[Booking], reason: str, cause: str) -> Notification:
    """Tell a staff member, in one message, that these appointments of theirs cannot
    go ahead (``booking_disrupted`` to the staff member, filed under the first)."""
    first = bookings[0]
    composed = compose_disruption_summary(
        language=staff.preferred_language,
        salon=first.salon,
        count=len(bookings),
        first_start=first.start,
        reason=reason,
        cause=cause,
    )
    row = composed_row(
        booking=first,
        recipient=staff,
        event=NotificationEvent.BOOKING_DISRUPTED,
        composed=composed,
        sequence=first.reschedule_count,
    )
    return _write_once(row, {field: getattr(row, field) for field in KEY_FIELDS})


def send_staff_agenda(*, staff: User, day, bookings: list[Booking], held_until=None, skip_reason="") -> Notification:
    """A staff member's appointments on ``day``, in order, in one message
    (``staff_agenda``, filed under the first). Once per staff member and day: the
    database refuses a second, so two beats or a rerun write nothing more."""
    composed = compose_agenda(language=staff.preferred_language, salon=bookings[0].salon, day=day, bookings=bookings)
    row = composed_row(
        booking=bookings[0],
        recipient=staff,
        event=NotificationEvent.STAFF_AGENDA,
        composed=composed,
        skip_reason=skip_reason,
        held_until=held_until,
        agenda_date=day,
    )
    return _write_once(row, {"recipient": staff, "event": row.event, "agenda_date": day, "fallback_of": None})
