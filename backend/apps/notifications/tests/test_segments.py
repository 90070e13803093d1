"""What an SMS costs: the segment counter against known cases, and every built-in
text within its budget (one segment in English, two in Arabic)."""

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from apps.accounts.models import Language
from apps.common.channels import MessageClass
from apps.notifications.links import disruption_link, offer_link
from apps.notifications.messages import (
    COMPOSED_APART,
    TEXTS,
    compose,
    compose_agenda,
    compose_disruption,
    compose_disruption_summary,
    compose_offer,
)
from apps.notifications.models import EVENT_CLASS, Audience, NotificationEvent
from apps.notifications.promotional import with_optout_link
from integrations.messaging.segments import Encoding, sms_size

GSM7, UCS2 = Encoding.GSM7, Encoding.UCS2

# (text, encoding, units, segments): counted by hand from GSM 03.38 and UTF-16.
KNOWN = [
    ("", GSM7, 0, 1),
    ("Hello", GSM7, 5, 1),
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("Hello\nworld @ £$¥ è é Ø Å Δ _ ¡ ¿ §", GSM7, 35, 1),
    ("[ ] { } ^ ~ \\ |", GSM7, 23, 1),  # 8 extension characters (2 septets each) and 7 spaces
    ("€" * 80, GSM7, 160, 1),
    ("€" * 81, GSM7, 162, 2),
    ("a" * 152 + "€" + "a" * 10, GSM7, 164, 2),  # the € does not straddle two segments
    ("a" * 152 + "€" * 5, GSM7, 162, 2),
    ("naïve", UCS2, 5, 1),  # ï is not in the GSM basic table
    ("It’s", UCS2, 4, 1),  # a curly apostrophe turns the whole text UCS-2
    ("“quoted”", UCS2, 8, 1),
    ("a" * 70 + "’", UCS2, 71, 2),
    ("Tab\there", UCS2, 8, 1),
    ("back`tick", UCS2, 9, 1),
    ("zero\u200bwidth space", UCS2, 16, 1),
    ("ا" * 70, UCS2, 70, 1),
    ("ا" * 71, UCS2, 71, 2),
    ("ا" * 134, UCS2, 134, 2),
    ("ا" * 135, UCS2, 135, 3),
    ("مَرْحَبًا", UCS2, 9, 1),  # letters and their diacritics, one unit each
    ("إيـقاف", UCS2, 6, 1),  # tatweel is a character of its own
    ("😀", UCS2, 2, 1),  # outside the Basic Multilingual Plane: two units
    ("😀" * 35, UCS2, 70, 1),
    ("😀" * 36, UCS2, 72, 2),
    ("a" * 66 + "😀" * 2, UCS2, 70, 1),
    ("a" * 66 + "😀" * 3, UCS2, 72, 2),  # the split moves the emoji rather than cut it
    ("👨\u200d👩\u200d👧", UCS2, 8, 1),  # a family: three emoji and two zero-width joiners
    ("مرحبا Hello", UCS2, 11, 1),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), KNOWN, ids=range(len(KNOWN)))
def test_the_segment_counter_on_known_cases(text, encoding, units, segments):
    size = sms_size(text)

    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_the_table_has_at_least_twenty_cases_of_each_kind_asked_for():
    texts = [text for text, *_ in KNOWN]
    assert len(KNOWN) >= 20
    for needle in ("€", "[", "]", "{", "}", "^", "~", "\\", "|", "’", "“", "\u200d", "ـ", "َ", "😀"):
        assert any(needle in text for text in texts), needle


# Names of 25 characters, each in the reader's language (an Arabic name in an English
# text would make it UCS-2, docs/providers.md).
NAMES = {
    Language.ENGLISH: {
        "service": "Keratin Hair Treatment XL",
        "salon": "Riyadh Beauty Lounge Olay",
        "customer": "Abdulrahman Al-Qahtani Jr",
    },
    Language.ARABIC: {
        "service": "تسريح وصبغة شعر للمناسبات",
        "salon": "صالون لمسة الجمال بالرياض",
        "customer": "نورة بنت عبدالله القحطاني",
    },
}
REVIEW_URL = "https://g.page/r/CbTx7aQ9w8Dz"  # a review link of 29 characters
BUDGET = {Language.ENGLISH: 1, Language.ARABIC: 2}
RIYADH = ZoneInfo("Asia/Riyadh")


class _Named:
    def __init__(self, name, tz=None):
        self.name, self.tz = name, tz

    def display_name(self, language):
        return self.name


def _booking(names):
    return SimpleNamespace(
        salon=_Named(names["salon"], RIYADH),
        service=_Named(names["service"]),
        customer=SimpleNamespace(name=names["customer"]),
        start=datetime(2026, 3, 1, 10, 0, tzinfo=RIYADH),
        cancellation_reason="",
    )


# A cancellation names its reason (a usual one in the reader's words, or what a person wrote).
REASONS = ["", "salon_closed", "The stylist is ill today and nobody else can take this appointment, sorry"]


def _every_text():
    for event, audience, language in TEXTS:
        if event in COMPOSED_APART:
            continue  # a link or a list: test_every_composed_text_fits_its_sms_budget
        extras = [""]
        if event == NotificationEvent.BOOKING_COMPLETED:
            extras = ["", REVIEW_URL]
        elif event == NotificationEvent.BOOKING_CANCELLED:
            extras = REASONS
        for extra in extras:
            yield event, audience, language, extra


@pytest.mark.parametrize(("event", "audience", "language", "extra"), list(_every_text()))
def test_every_built_in_text_fits_its_sms_budget(settings, event, audience, language, extra):
    settings.PUBLIC_BASE_URL = "https://api.salon.example"  # the opt-out link of promotional SMS
    names = NAMES[language]
    assert all(len(name) == 25 for name in names.values())
    booking = _booking(names)
    review_url = extra if event == NotificationEvent.BOOKING_COMPLETED else ""
    booking.cancellation_reason = extra if event == NotificationEvent.BOOKING_CANCELLED else ""
    text = compose(
        event=event,
        audience=audience,
        language=language,
        booking=booking,
        previous_start=datetime(2026, 3, 2, 11, 30, tzinfo=RIYADH),
        review_url=review_url,
    )

    if EVENT_CLASS[event] == MessageClass.PROMOTIONAL:
        text = with_optout_link(text, user_id=99_999_999, language=language)  # a link as long as it gets
        assert "/u/" in text

    size = sms_size(text)

    assert size.segments <= BUDGET[language], (size, text)
    assert size.encoding == (Encoding.GSM7 if language == Language.ENGLISH else Encoding.UCS2)
    assert names["salon"] in text  # a real text, not an empty one


# Who each event is written for, where it is not both.
ONE_AUDIENCE = {
    "booking_completed": (Audience.CUSTOMER,),
    "booking_no_show": (Audience.CUSTOMER,),
    "waitlist_offer": (Audience.CUSTOMER,),
    "staff_agenda": (Audience.STAFF,),
}


def _composed(event, audience, language):
    """Each composed-apart text at its longest: 25-character names, the longest link, a long agenda."""
    names = NAMES[language]
    booking = _booking(names)
    salon, service = booking.salon, booking.service
    if event == NotificationEvent.WAITLIST_OFFER:
        return compose_offer(
            language=language, service=service, salon=salon, start=booking.start,
            staff_name=names["customer"], minutes=15, link=offer_link(99_999_999),
        )  # fmt: skip
    if event == NotificationEvent.BOOKING_DISRUPTED and audience == Audience.CUSTOMER:
        options = [(booking.start, names["customer"])] * 3
        return compose_disruption(
            language=language, booking=booking, cause="closure", reason="Eid al-Fitr holidays for everyone",
            options=options, link=disruption_link(99_999_999),
        )  # fmt: skip
    if event == NotificationEvent.BOOKING_DISRUPTED:
        return compose_disruption_summary(
            language=language, salon=salon, count=120, first_start=booking.start, reason="", cause="time_off"
        )
    day = [_booking(names) for _ in range(14)]  # a full day
    return compose_agenda(language=language, salon=salon, day=booking.start.date(), bookings=day)


COMPOSED = [key for key in TEXTS if key[0] in COMPOSED_APART]


@pytest.mark.parametrize(("event", "audience", "language"), COMPOSED)
def test_every_composed_text_fits_its_sms_budget(settings, event, audience, language):
    settings.PUBLIC_BASE_URL = "https://api.salon.example"
    composed = _composed(event, audience, language)

    size = sms_size(composed.text)

    assert size.segments <= BUDGET[language], (size, composed.text)
    assert size.encoding == (Encoding.GSM7 if language == Language.ENGLISH else Encoding.UCS2)
    assert NAMES[language]["salon"] in composed.text  # a real text, not an empty one
    assert composed.template == f"{event}_{audience}" and all(composed.variables)
    assert not any("\n" in variable for variable in composed.variables)  # WhatsApp refuses line breaks


@pytest.mark.parametrize("language", list(Language))
def test_a_long_agenda_lists_what_fits_on_sms_and_says_how_many_more(language):
    names = NAMES[language]
    day = [_booking(names) for _ in range(14)]

    composed = compose_agenda(language=language, salon=day[0].salon, day=day[0].start.date(), bookings=day)

    listed = composed.text.count(names["service"])
    assert 1 <= listed < 14
    assert f"{14 - listed}" in composed.text.rsplit(names["service"], 1)[1]  # "+13 more" / "و13 أخرى"
    assert composed.variables[2] == "14" and composed.variables[3].count(names["service"]) == 14  # all on WhatsApp


def test_every_event_and_audience_has_a_text_in_both_languages():
    lifecycle = [e for e in NotificationEvent if e not in (NotificationEvent.REPLY_ANSWER,)]
    for event in lifecycle:
        audiences = ONE_AUDIENCE.get(event, tuple(Audience))
        for audience in audiences:
            for language in Language:
                assert (event, audience, language) in TEXTS, (event, audience, language)
