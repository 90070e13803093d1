"""Short signed links in SMS, where there are no buttons: ``/w/<token>`` claims a
waiting list offer, ``/d/<token>`` chooses another time for a disrupted booking.

A token names one row (base 36) and carries a MAC of it keyed by SECRET_KEY and
the link's purpose, 60 bits in 10 characters: short enough for a one-segment
SMS, and a link for one purpose never opens another's page. Whoever holds the SMS
may use it, as with the opt-out link (promotional.py); what it can do is bounded
by the page (claim that offer; move or cancel that booking).
"""

import base64
import hashlib
import hmac

from django.conf import settings

MAC_LENGTH = 10
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _mac(purpose: str, number_part: str) -> str:
    key = settings.SECRET_KEY.encode() + b"salon.link." + purpose.encode()
    digest = hmac.new(key, number_part.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_LENGTH]


def _base36(number: int) -> str:
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = DIGITS[rest] + text
        if not number:
            return text


def link_token(purpose: str, number: int) -> str:
    number_part = _base36(number)
    return number_part + _mac(purpose, number_part)


def read_link_token(purpose: str, token: str) -> int | None:
    """The row a token names, or None if it is forged, altered, not ours or for another purpose."""
    number_part, mac = token[:-MAC_LENGTH], token[-MAC_LENGTH:]
    if not number_part or len(number_part) > 12 or any(c not in DIGITS for c in number_part):
        return None
    if not hmac.compare_digest(mac.encode(), _mac(purpose, number_part).encode()):
        return None
    return int(number_part, 36)


def public_link(prefix: str, purpose: str, number: int) -> str:
    """``PUBLIC_BASE_URL/<prefix>/<token>`` (the local server without PUBLIC_BASE_URL)."""
    base = settings.PUBLIC_BASE_URL or f"http://127.0.0.1:{settings.RUN_PORT}"
    return f"{base.rstrip('/')}/{prefix}/{link_token(purpose, number)}"


OFFER = "waitlist-offer"
DISRUPTION = "disruption"


def offer_link(offer_id: int) -> str:
    return public_link("w", OFFER, offer_id)


def disruption_link(disruption_id: int) -> str:
    return public_link("d", DISRUPTION, disruption_id)
