"""Quick-reply buttons on WhatsApp messages, and the signed token each one carries.

In Saudi Arabia SMS is one-way, so answers come by WhatsApp: the customer's
`booking_created` message and reminders carry "I'll be there" / "Cancel", the
staff member's `booking_created` carries "Confirm" / "Decline". Each button's
payload is an opaque token signed with SECRET_KEY, binding the booking, the
recipient, the action and the booking's move number; it expires at the booking's
start. A reply is acted on only if its token verifies (and the webhook's own
signature did, and the sender's phone is the recipient's).
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


def reply_buttons(*, booking, recipient_id: int, event: str, audience: str) -> list[str]:
    """The payloads of the buttons a WhatsApp message about ``event`` carries (may be none)."""
    return [
        reply_token(booking=booking, recipient_id=recipient_id, action=action)
        for action in BUTTONS.get((event, audience), ())
    ]


def reply_token(*, booking, recipient_id: int, action: str) -> str:
    fields = [booking.pk, recipient_id, action, booking.reschedule_count, int(booking.start.timestamp())]
    return signing.dumps(fields, salt=SALT, compress=True)


def read_reply_token(token: str) -> ReplyToken | None:
    """The token's contents, or None if it is forged, altered or not ours."""
    try:
        booking_id, recipient_id, action, move, expires = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if action not in ReplyAction.values:
        return None
    return ReplyToken(int(booking_id), int(recipient_id), action, int(move), datetime.fromtimestamp(expires, tz=UTC))
