"""Quick-reply buttons on WhatsApp messages, and the signed token each one carries.

In Saudi Arabia SMS is one-way, so answers come by WhatsApp: the customer's
`booking_created` message and reminders carry "I'll be there" / "Cancel", the
staff member's `booking_created` carries "Confirm" / "Decline". Each button's
payload is an opaque token signed with SECRET_KEY, binding the booking, the
recipient, the action and the booking's move number; it expires at the booking's
start. A reply is acted on only if its token verifies (and the webhook's own
signature did, and the sender's phone is the recipient's).

Waiting list offers carry "Book it" (the token also names the offer; the booking
is the one whose time was freed; it expires with the offer). A disrupted booking's
notice carries one button per alternative time ("move": the token also carries
the start and the staff member), "other times" where fewer than three were found,
and "Cancel". These extra fields trail the five above, so tokens sent before they
existed still read the same.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

from apps.notifications.models import Audience, NotificationEvent, ReplyAction

SALT = "salon.whatsapp-reply"

# (event, audience) -> the actions of its buttons, in the template's button order.
BUTTONS = {
    (NotificationEvent.BOOKING_CREATED, Audience.CUSTOMER): (ReplyAction.KEEP, ReplyAction.CANCEL),
    (NotificationEvent.BOOKING_REMINDER, Audience.CUSTOMER): (ReplyAction.KEEP, ReplyAction.CANCEL),
    (NotificationEvent.BOOKING_CREATED, Audience.STAFF): (ReplyAction.CONFIRM, ReplyAction.DECLINE),
}


@dataclass(frozen=True)
class ReplyToken:
    booking_id: int
    recipient_id: int
    action: str
    move: int
    expires_at: datetime
    offer_id: int | None = None  # "book": the waiting list offer
    start: datetime | None = None  # "move": the time to move to
    staff_id: int | None = None  # "move": with whom


def reply_buttons(*, booking, recipient_id: int, event: str, audience: str) -> list[str]:
    """The payloads of the buttons a WhatsApp message about ``event`` carries (may be none)."""
    return [
        reply_token(booking=booking, recipient_id=recipient_id, action=action)
        for action in BUTTONS.get((event, audience), ())
    ]


def reply_token(*, booking, recipient_id: int, action: str) -> str:
    fields = [booking.pk, recipient_id, action, booking.reschedule_count, int(booking.start.timestamp())]
    return signing.dumps(fields, salt=SALT, compress=True)


def offer_token(*, offer, recipient_id: int) -> str:
    """ "Book it" on a waiting list offer: valid until the offer expires."""
    fields = [offer.freed_booking_id, recipient_id, ReplyAction.BOOK, 0, int(offer.expires_at.timestamp()), offer.pk]
    return signing.dumps(fields, salt=SALT, compress=True)


def move_token(*, booking, recipient_id: int, start: datetime, staff_id: int) -> str:
    """Move a disrupted booking to ``start`` with ``staff_id``: valid until the
    booking's start, for its current move."""
    fields = [booking.pk, recipient_id, ReplyAction.MOVE, booking.reschedule_count, int(booking.start.timestamp())]
    return signing.dumps([*fields, int(start.timestamp()), staff_id], salt=SALT, compress=True)


def disruption_buttons(*, booking, recipient_id: int, options: list[tuple[datetime, int]]) -> list[str]:
    """The four buttons of a disruption notice: three alternatives (or "other times"
    where fewer were found: the template's buttons are fixed), then "Cancel"."""
    buttons = [move_token(booking=booking, recipient_id=recipient_id, start=s, staff_id=p) for s, p in options[:3]]
    while len(buttons) < 3:
        buttons.append(reply_token(booking=booking, recipient_id=recipient_id, action=ReplyAction.OTHER_TIMES))
    return [*buttons, reply_token(booking=booking, recipient_id=recipient_id, action=ReplyAction.CANCEL)]


def read_reply_token(token: str) -> ReplyToken | None:
    """The token's contents, or None if it is forged, altered or not ours."""
    try:
        booking_id, recipient_id, action, move, expires, *extra = signing.loads(token, salt=SALT)
        if action not in ReplyAction.values:
            return None
        offer_id = start = staff_id = None
        if action == ReplyAction.BOOK:
            (offer_id,) = extra
            offer_id = int(offer_id)
        elif action == ReplyAction.MOVE:
            start_at, staff_id = extra
            start, staff_id = datetime.fromtimestamp(start_at, tz=UTC), int(staff_id)
        elif extra:
            return None
        return ReplyToken(
            int(booking_id),
            int(recipient_id),
            action,
            int(move),
            datetime.fromtimestamp(expires, tz=UTC),
            offer_id=offer_id,
            start=start,
            staff_id=staff_id,
        )
    except (signing.BadSignature, ValueError, TypeError, OverflowError, OSError):
        return None
