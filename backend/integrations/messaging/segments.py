"""How many SMS segments a text costs, and in which encoding (GSM 03.38 or UCS-2).

Providers bill per segment. A text made only of the GSM 03.38 basic table goes as
GSM-7: 160 septets in one segment, 153 per segment when split (the rest of each
segment carries the concatenation header); a character of the extension table
(``^ { } \\ [ ~ ] | €`` and form feed) costs two septets (escape + character).
Any other character, one Arabic letter, a curly quote or an emoji, makes the
whole text UCS-2: 70 UTF-16 code units in one segment, 67 per segment when split;
a character outside the Basic Multilingual Plane (most emoji) is two units. A
two-unit character is never split across segments (it moves to the next one).
"""

from dataclasses import dataclass
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


# (units in a single segment, units per segment of a split text)
LIMITS = {Encoding.GSM7: (160, 153), Encoding.UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsSize:
    encoding: Encoding
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def sms_encoding(text: str) -> Encoding:
    return Encoding.GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else Encoding.UCS2


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == Encoding.GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_size(text: str) -> SmsSize:
    """The encoding, segment count and length of ``text`` as one SMS."""
    encoding = sms_encoding(text)
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    single, split = LIMITS[encoding]
    if units <= single:
        return SmsSize(encoding, 1, units)
    segments, room = 1, split
    for cost in costs:
        if cost > room:
            segments, room = segments + 1, split
        room -= cost
    return SmsSize(encoding, segments, units)
