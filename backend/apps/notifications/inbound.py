"""What people send us: quick-reply buttons, STOP, and text.

Every inbound message is stored once by its provider message id (providers
redeliver webhooks; a redelivery or a replay changes nothing and answers nothing
new). A button reply acts through the booking services as the person who
pressed it, with the same rules as the API, only if its token verifies and the
sender's phone is the recipient's. A reply the rules refuse changes nothing and
gets a short answer in the person's language. STOP opts the sender out of that
channel. Text is kept with the sender's latest booking, for the salon to read.

"Book it" on a waiting list offer claims it (``waitlist_offer_claim``: the first
claim wins; the others are told it was taken). On a disrupted booking's notice, a
time moves the booking there (``disruption_move``; taken meanwhile: the answer
lists the free times now and the link to choose), "other times" answers with them.
"""

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services.users import user_opt_out, user_whatsapp_reachable
from apps.bookings.error_codes import BookingErrorCode
from apps.bookings.models import Booking, BookingStatus, CancellationReason
from apps.bookings.services import booking_attendance_confirm, booking_change_status
from apps.common.channels import Channel
from apps.common.errors import AppError
from apps.common.metrics import INBOUND_MESSAGES
from apps.common.phones import normalize_mobile
from apps.disruptions.services import disruption_move, disruption_other_times
from apps.notifications.messages import AnswerKind, compose_answer, options_text
from apps.notifications.models import InboundMessage, InboundOutcome, Notification, NotificationStatus, ReplyAction
from apps.notifications.replies import ReplyToken, read_reply_token
from apps.notifications.services import send_reply_answer
from apps.waitlist.error_codes import WaitlistErrorCode
from apps.waitlist.services import waitlist_offer_claim

logger = logging.getLogger(__name__)

# Words that stop messages on a channel. "CANCEL" stops SMS (Twilio's keyword) but
# not WhatsApp, where "Cancel" is the booking's own button.
# On SMS "cancel" (CANCEL, إلغاء) stops every SMS and cancels no booking: SMS carries no
# buttons, Twilio itself opts a number out on CANCEL, and a stray word must not cancel
# an appointment (docs/decisions.md). Matched after ``normalized_words``.
STOP_WORDS = {
    Channel.SMS: {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "إيقاف",
        "ايقاف",
        "الغاء",
        "إلغاء",
    },
    Channel.WHATSAPP: {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "END", "QUIT", "إيقاف", "ايقاف"},
}
# What each button asks of the booking.
TARGET_STATUS = {
    ReplyAction.CANCEL: BookingStatus.CANCELLED,
    ReplyAction.CONFIRM: BookingStatus.CONFIRMED,
    ReplyAction.DECLINE: BookingStatus.CANCELLED,
}


@dataclass(frozen=True)
class IncomingMessage:
    """One inbound message as a provider's webhook described it."""

    provider: str
    provider_message_id: str
    channel: str
    phone: str  # as the provider gave it
    text: str = ""
    button_text: str = ""
    button_payload: str = ""
    received_at: datetime | None = None
    opt_out: bool = False  # the provider's own opt-out signal (Twilio's OptOutType=STOP)
    context_id: str = ""  # the provider id of our message this one answers, when the provider says


# Characters that change how a word looks, not what it says: zero-width spaces and
# joiners, the byte-order mark, the Arabic tatweel (kashida) that stretches a word.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u0640"))


def normalized_words(text: str) -> str:
    """Text as a reader sees it: NFKC (fullwidth letters are STOP), invisible characters
    and tatweel removed, case folded, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE).casefold()
    return " ".join(folded.split())


STOP_WORDS_NORMALIZED = {channel: {normalized_words(word) for word in words} for channel, words in STOP_WORDS.items()}


def is_stop(text: str, channel: str) -> bool:
    return normalized_words(text) in STOP_WORDS_NORMALIZED.get(channel, set())


def inbound_message_receive(message: IncomingMessage) -> InboundMessage | None:
    """Store and act on one inbound message, exactly once per provider message id.

    Returns the stored row (the existing one for a redelivery, which does
    nothing more), or None for a message without a usable id.
    """
    if not message.provider_message_id or "\x00" in message.provider_message_id:
        return None
    with transaction.atomic():
        row, created = InboundMessage.objects.get_or_create(
            provider=message.provider,
            provider_message_id=message.provider_message_id[:128],
            defaults={
                "channel": message.channel,
                "phone": message.phone[:32],
                "text": message.text[:4000],
                "button_text": message.button_text[:128],
                "button_payload": message.button_payload[:256],
                "received_at": message.received_at or timezone.now(),
                "outcome": InboundOutcome.IGNORED,
            },
        )
        if not created:
            return row
        row.user = _sender(message.phone)
        if row.user is not None and row.channel == Channel.WHATSAPP:
            user_whatsapp_reachable(user_id=row.user.pk)  # they are on WhatsApp after all
        if message.opt_out or (not message.button_payload and is_stop(message.text, message.channel)):
            _opt_out(row)
        elif message.button_payload:
            _button_reply(row)
        else:
            _text(row, message.context_id)
        row.save()
    INBOUND_MESSAGES.labels(row.channel, row.action or "text", row.outcome).inc()
    return row


def _sender(phone: str) -> User | None:
    try:
        e164 = normalize_mobile(phone.removeprefix("whatsapp:"))
    except AppError:
        return None
    return User.objects.filter(phone=e164, is_active=True).first()


def _opt_out(row: InboundMessage) -> None:
    row.action = ReplyAction.STOP
    if row.user is None:
        row.reason = "Unknown sender."
        return
    user_opt_out(user_id=row.user.pk, channel=row.channel)
    row.outcome = InboundOutcome.OPTED_OUT
    logger.info("User %s opted out of %s by reply", row.user.pk, row.channel)


def _text(row: InboundMessage, context_id: str) -> None:
    """Text is kept for the salon it is written to: the salon of the message it answers
    (the provider's context), else of the last message we sent the person, else their own."""
    row.outcome = InboundOutcome.STORED
    if row.user is None:
        return
    ours = Notification.objects.select_related("booking").filter(recipient=row.user)
    answered = ours.filter(provider_message_id=context_id).first() if context_id else None
    last = answered or ours.filter(status=NotificationStatus.SENT).order_by("-sent_at", "-id").first()
    if last is not None:
        row.booking, row.salon_id = last.booking, last.booking.salon_id
    else:
        row.salon_id = row.user.salon_id


def _button_reply(row: InboundMessage) -> None:
    token = read_reply_token(row.button_payload)
    if token is None:
        row.reason = "The button's token is forged, altered or not ours."
        return
    row.action = token.action
    booking = Booking.objects.select_related("salon", "service", "customer", "staff").filter(pk=token.booking_id)
    row.booking = booking.first()
    if row.booking is None:
        row.reason = "The button's booking does not exist."
        return
    row.salon_id = row.booking.salon_id
    if row.user is None or row.user.pk != token.recipient_id:
        # Someone else's button (a forwarded message, a forged webhook): nothing, no
        # answer, and not filed with the booking's salon (their number is not its customer's).
        row.reason = "The sender is not the person the button was sent to."
        row.booking, row.salon_id = None, None
        return
    _act(row, token, row.booking)


def _act(row: InboundMessage, token: ReplyToken, booking: Booking) -> None:
    """The sender is the recipient: act, or refuse and answer why."""
    if token.action == ReplyAction.BOOK:
        return _claim_offer(row, token, booking)
    now = timezone.now()
    if booking.reschedule_count != token.move:
        return _refuse(row, booking, AnswerKind.MOVED, "The booking was moved after the message with this button.")
    if now >= token.expires_at or now >= booking.start:
        return _refuse(row, booking, AnswerKind.TOO_LATE, "The booking has started.")
    target = TARGET_STATUS.get(token.action)
    if target is not None and booking.status == target:
        return _refuse(row, booking, AnswerKind.ALREADY, f"The booking is already {booking.status}.")
    try:
        if token.action == ReplyAction.KEEP:
            booking = booking_attendance_confirm(actor=row.user, booking_id=booking.pk)
            _answer(row, booking, AnswerKind.KEPT)
        elif token.action == ReplyAction.MOVE:
            disruption_move(actor=row.user, booking_id=booking.pk, start=token.start, staff_id=token.staff_id)
            # booking_rescheduled, to the customer and the staff member now serving it, is the answer.
        elif token.action == ReplyAction.OTHER_TIMES:
            _answer(row, booking, AnswerKind.OTHER_TIMES, extra=_other_times(row, booking))
        else:
            reason = CancellationReason.STAFF_DECLINED if token.action == ReplyAction.DECLINE else ""
            booking_change_status(actor=row.user, booking_id=booking.pk, status=target, reason=reason)
            # The booking's own message (confirmed / cancelled, to both) is the answer.
    except AppError as exc:
        booking.refresh_from_db()
        if token.action == ReplyAction.MOVE and exc.code == BookingErrorCode.SLOT_TAKEN:
            extra = _other_times(row, booking)
            return _refuse(row, booking, AnswerKind.MOVE_TAKEN, f"[{exc.code}] {exc.message}", extra=extra)
        kind = {
            BookingErrorCode.BOOKING_ALREADY_STARTED: AnswerKind.TOO_LATE,
            BookingErrorCode.INVALID_TRANSITION: AnswerKind.ALREADY,
        }.get(exc.code, AnswerKind.REFUSED)
        return _refuse(row, booking, kind, f"[{exc.code}] {exc.message}")
    row.outcome = InboundOutcome.DONE
    return None


# What a refused "Book it" is answered with; any other rule's refusal means the time is gone.
CLAIM_ANSWERS = {
    BookingErrorCode.SLOT_TAKEN: AnswerKind.TAKEN,
    WaitlistErrorCode.OFFER_EXPIRED: AnswerKind.OFFER_EXPIRED,
    WaitlistErrorCode.OFFER_NOT_YET: AnswerKind.REFUSED,
    WaitlistErrorCode.ENTRY_CLOSED: AnswerKind.ENTRY_CLOSED,
    WaitlistErrorCode.ENTRY_BOOKED: AnswerKind.ENTRY_BOOKED,
}


def _claim_offer(row: InboundMessage, token: ReplyToken, freed_booking: Booking) -> None:
    """ "Book it": the offer is claimed as the person (the freed booking is only where
    the offer's messages are filed); the booking's own message is the answer."""
    try:
        claimed = waitlist_offer_claim(actor=row.user, offer_id=token.offer_id)
    except AppError as exc:
        kind = CLAIM_ANSWERS.get(exc.code, AnswerKind.TAKEN)
        return _refuse(row, freed_booking, kind, f"[{exc.code}] {exc.message}")
    row.booking = claimed.booking
    row.outcome = InboundOutcome.DONE
    return None


def _other_times(row: InboundMessage, booking: Booking) -> dict:
    """The free times for a disrupted booking now, and the link to its choice page."""
    options, link = disruption_other_times(booking)
    text = options_text(
        [(option.start, option.staff_name) for option in options],
        language=row.user.preferred_language,
        tz=booking.salon.tz,
    )
    return {"options": text, "link": link}


def _refuse(row: InboundMessage, booking: Booking, kind: AnswerKind, reason: str, *, extra: dict | None = None) -> None:
    row.outcome, row.reason = InboundOutcome.REFUSED, reason[:300]
    _answer(row, booking, kind, extra=extra)


def _answer(row: InboundMessage, booking: Booking, kind: AnswerKind, *, extra: dict | None = None) -> None:
    row.save()  # the answer refers to the stored row
    text = compose_answer(kind=kind, language=row.user.preferred_language, booking=booking, extra=extra)
    send_reply_answer(inbound=row, booking=booking, recipient=row.user, text=text)
