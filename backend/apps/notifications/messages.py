"""Message texts: one per event, audience (customer or staff) and language.

Placeholders: {service}, {salon}, {when} (local date and time), {customer},
{previous_when} (reschedules only), {reason} (cancellations only: " (<words>)",
fitted to the SMS budget, or nothing). The thank-you after a visit ends with the
salon's review link when it has one, in place of its closing words (REVIEW_LINK).

Each text is written to fit the SMS budget (test_segments.py): with service,
salon and customer names of 25 characters, one GSM-7 segment in English (160
characters) and two UCS-2 segments in Arabic (134). The thank-you names only the
salon, so that its links fit.
"""

from datetime import datetime
from enum import StrEnum

from apps.accounts.models import Language
from apps.notifications.models import Audience
from apps.notifications.models import NotificationEvent as Event
from integrations.messaging.segments import Encoding, sms_size


class AnswerKind(StrEnum):
    """The answers to a person's WhatsApp reply."""

    KEPT = "kept"  # "I'll be there" recorded
    TOO_LATE = "too_late"  # the booking has started
    MOVED = "moved"  # the button belongs to an earlier time of the booking
    ALREADY = "already"  # the booking is already in the state asked for
    REFUSED = "refused"  # the booking rules said no


TEXTS: dict[tuple[str, str, str], str] = {
    # Customer, English
    (Event.BOOKING_CREATED, Audience.CUSTOMER, Language.ENGLISH): (
        "Your booking request is received for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CONFIRMED, Audience.CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} on {when} is confirmed."
    ),
    (Event.BOOKING_CANCELLED, Audience.CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} on {when} is cancelled{reason}."
    ),
    (Event.BOOKING_RESCHEDULED, Audience.CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} moved from {previous_when} to {when}."
    ),
    (Event.BOOKING_REMINDER, Audience.CUSTOMER, Language.ENGLISH): (
        "Reminder: your booking for {service} at {salon} is on {when}."
    ),
    (Event.BOOKING_COMPLETED, Audience.CUSTOMER, Language.ENGLISH): (
        "Thank you for visiting {salon}! We hope to see you again soon."
    ),
    (Event.BOOKING_NO_SHOW, Audience.CUSTOMER, Language.ENGLISH): (
        "We missed you at {salon} for {service} on {when}. Book a new time in the Salon app whenever it suits you."
    ),
    # Staff, English
    (Event.BOOKING_CREATED, Audience.STAFF, Language.ENGLISH): (
        "New booking request: {customer} for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CONFIRMED, Audience.STAFF, Language.ENGLISH): (
        "Appointment confirmed: {customer} for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CANCELLED, Audience.STAFF, Language.ENGLISH): (
        "Appointment cancelled: {customer} for {service} at {salon} on {when}{reason}."
    ),
    (Event.BOOKING_RESCHEDULED, Audience.STAFF, Language.ENGLISH): (
        "Appointment moved: {customer} for {service} at {salon}, from {previous_when} to {when}."
    ),
    (Event.BOOKING_REMINDER, Audience.STAFF, Language.ENGLISH): (
        "Reminder: {customer} for {service} at {salon} on {when}."
    ),
    # Customer, Arabic
    (Event.BOOKING_CREATED, Audience.CUSTOMER, Language.ARABIC): (
        "تم استلام طلب حجزك لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CONFIRMED, Audience.CUSTOMER, Language.ARABIC): (
        "تم تأكيد حجزك لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CANCELLED, Audience.CUSTOMER, Language.ARABIC): (
        "تم إلغاء حجزك لخدمة {service} في {salon} بتاريخ {when}{reason}."
    ),
    (Event.BOOKING_RESCHEDULED, Audience.CUSTOMER, Language.ARABIC): (
        "تم نقل حجزك لخدمة {service} في {salon} من {previous_when} إلى {when}."
    ),
    (Event.BOOKING_REMINDER, Audience.CUSTOMER, Language.ARABIC): (
        "تذكير: موعد حجزك لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_COMPLETED, Audience.CUSTOMER, Language.ARABIC): ("شكراً لزيارتك {salon}! نتطلع لرؤيتك مجدداً."),
    (Event.BOOKING_NO_SHOW, Audience.CUSTOMER, Language.ARABIC): (
        "افتقدناك في {salon} لموعد {service} بتاريخ {when}. احجز موعداً جديداً متى شئت."
    ),
    # Staff, Arabic
    (Event.BOOKING_CREATED, Audience.STAFF, Language.ARABIC): (
        "طلب حجز جديد: {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CONFIRMED, Audience.STAFF, Language.ARABIC): (
        "تم تأكيد موعد {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CANCELLED, Audience.STAFF, Language.ARABIC): (
        "تم إلغاء موعد {customer} لخدمة {service} في {salon} بتاريخ {when}{reason}."
    ),
    (Event.BOOKING_RESCHEDULED, Audience.STAFF, Language.ARABIC): (
        "نقل موعد {customer} ({service}، {salon}) من {previous_when} إلى {when}."
    ),
    (Event.BOOKING_REMINDER, Audience.STAFF, Language.ARABIC): (
        "تذكير: موعد {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
}

UNNAMED_CUSTOMER = {Language.ENGLISH: "a customer", Language.ARABIC: "عميل"}
# The thank-you's closing words, replaced by the review link when the salon has one.
CLOSING = {Language.ENGLISH: " We hope to see you again soon.", Language.ARABIC: " نتطلع لرؤيتك مجدداً."}
REVIEW_LINK = {Language.ENGLISH: " Review us: {review_url}", Language.ARABIC: " قيّمنا: {review_url}"}

# A cancellation's reason, named in the cancelled texts as " (<words>)": a
# CancellationReason code in the reader's language, or the words a person wrote.
REASON_WORDS = {
    Language.ENGLISH: {
        "customer_request": "as requested",
        "staff_unavailable": "staff member unavailable",
        "salon_closed": "salon closed",
        "staff_declined": "declined by the salon",
        "duplicate": "booked twice",
    },
    Language.ARABIC: {
        "customer_request": "بناءً على الطلب",
        "staff_unavailable": "مقدم الخدمة غير متاح",
        "salon_closed": "الصالون مغلق",
        "staff_declined": "اعتذر الصالون عن الموعد",
        "duplicate": "حجز مكرر",
    },
}
# A cancelled text names its reason as far as the SMS budget allows: one GSM-7
# segment in English, two UCS-2 segments in Arabic (integrations.messaging.segments).
# The reason is cut with an ellipsis when longer, left out when fewer than
# REASON_MIN_ROOM characters of it would be left, and left out of an English text
# when written in characters GSM-7 lacks (one Arabic letter makes a 160-character
# text three UCS-2 segments).
SEGMENT_BUDGET = {Language.ENGLISH: 1, Language.ARABIC: 2}
REASON_MIN_ROOM = 12


def reason_words(reason: str, language: str) -> str:
    """The reason as a reader reads it: a code's words in their language, or the
    written words on one line."""
    return REASON_WORDS[language].get(reason) or " ".join(reason.split())


def _fitted_reason(text: str, words: str, language: str) -> str:
    """`` (words)`` cut to fit ``text`` (composed without it) in the SMS budget, or ""."""
    if not words:
        return ""
    encoding = sms_size(text).encoding  # a reason never turns a GSM-7 text into UCS-2
    budget = SEGMENT_BUDGET[Language.ENGLISH if encoding == Encoding.GSM7 else Language.ARABIC]
    ellipsis = "..." if encoding == Encoding.GSM7 else "…"
    cuts = [words] + [
        words[: n - len(ellipsis)].rstrip() + ellipsis for n in range(len(words) - 1, REASON_MIN_ROOM - 1, -1)
    ]
    for cut in cuts:
        size = sms_size(f"{text} ({cut})")
        if size.segments <= budget and size.encoding == encoding:
            return f" ({cut})"
    return ""


def local_when(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _values(*, language: str, booking, previous_start: datetime | None, review_url: str) -> dict[str, str]:
    salon = booking.salon
    return {
        "service": booking.service.display_name(language),
        "salon": salon.display_name(language),
        "when": local_when(booking.start, salon.tz),
        "previous_when": local_when(previous_start or booking.start, salon.tz),
        "customer": booking.customer.name or UNNAMED_CUSTOMER[language],
        "review_url": review_url,
        "reason": reason_words(booking.cancellation_reason, language),
    }


def _language(language: str) -> str:
    return language if language in Language.values else Language.ARABIC


def compose(
    *,
    event: str,
    audience: str,
    language: str,
    booking,
    previous_start: datetime | None = None,
    review_url: str = "",
) -> str:
    """The text for one recipient, in their language and the salon's local time."""
    language = _language(language)
    text = TEXTS[(event, audience, language)]
    if event == Event.BOOKING_COMPLETED and review_url:
        text = text.removesuffix(CLOSING[language]) + REVIEW_LINK[language]
    values = _values(language=language, booking=booking, previous_start=previous_start, review_url=review_url)
    if event == Event.BOOKING_CANCELLED:
        # Named as far as the SMS budget allows (SEGMENT_BUDGET).
        values["reason"] = _fitted_reason(text.format(**values | {"reason": ""}), values["reason"], language)
    return text.format(**values)


def template_for(
    *,
    event: str,
    audience: str,
    language: str,
    booking,
    previous_start: datetime | None = None,
    review_url: str = "",
) -> tuple[str, list[str]]:
    """The WhatsApp template name and its ordered variables for one recipient.

    Names default to ``<event>_<audience>`` (e.g. ``booking_created_customer``;
    the thank-you with a review link is ``booking_completed_review_customer``),
    overridable per event and audience in ``WHATSAPP_TEMPLATES``; each template
    exists once per language (ar, en) in the WhatsApp manager.
    """
    from django.conf import settings

    language = _language(language)
    values = _values(language=language, booking=booking, previous_start=previous_start, review_url=review_url)
    order = ["service", "salon", "when"]
    if event == Event.BOOKING_RESCHEDULED:
        order = ["service", "salon", "previous_when", "when"]
    if audience == Audience.STAFF:
        order = ["customer", *order]
    kind = event
    if event == Event.BOOKING_COMPLETED and review_url:
        kind, order = f"{event}_review", [*order, "review_url"]
    if event == Event.BOOKING_CANCELLED and values["reason"]:
        kind, order = f"{event}_reason", [*order, "reason"]
    name = settings.WHATSAPP_TEMPLATES.get(f"{kind}:{audience}", f"{kind}_{audience}")
    return name, [values[key] for key in order]


# Answers to a WhatsApp reply, in the sender's language (placeholders as above, plus {status}).
ANSWERS: dict[AnswerKind, dict[str, str]] = {
    AnswerKind.KEPT: {
        Language.ENGLISH: "Thank you! We look forward to seeing you at {salon} on {when}.",
        Language.ARABIC: "شكراً لك! ننتظرك في {salon} بتاريخ {when}.",
    },
    AnswerKind.TOO_LATE: {
        Language.ENGLISH: "Sorry, this booking can no longer be changed by message: it has started. "
        "Please call {salon}.",
        Language.ARABIC: "عذراً، لم يعد بالإمكان تعديل هذا الحجز عبر الرسائل لأن موعده قد بدأ. يرجى الاتصال بـ{salon}.",
    },
    AnswerKind.MOVED: {
        Language.ENGLISH: "This booking was moved after that message; it is now on {when}. "
        "Please use the buttons of the latest message.",
        Language.ARABIC: "تم نقل هذا الحجز بعد تلك الرسالة، وموعده الآن {when}. يرجى استخدام أزرار آخر رسالة.",
    },
    AnswerKind.ALREADY: {
        Language.ENGLISH: "This booking is already {status}; nothing was changed.",
        Language.ARABIC: "هذا الحجز {status} بالفعل؛ لم يتغير شيء.",
    },
    AnswerKind.REFUSED: {
        Language.ENGLISH: "We could not do that, and nothing was changed. Please contact {salon}.",
        Language.ARABIC: "تعذر تنفيذ طلبك ولم يتغير شيء. يرجى التواصل مع {salon}.",
    },
}
STATUS_WORDS = {
    Language.ENGLISH: {
        "pending": "pending",
        "confirmed": "confirmed",
        "cancelled": "cancelled",
        "completed": "completed",
        "no_show": "marked as a no-show",
    },
    Language.ARABIC: {
        "pending": "قيد الانتظار",
        "confirmed": "مؤكد",
        "cancelled": "ملغى",
        "completed": "مكتمل",
        "no_show": "مسجل كعدم حضور",
    },
}


def compose_answer(*, kind: AnswerKind, language: str, booking) -> str:
    """A short answer to a reply, in the person's language and the salon's local time."""
    language = _language(language)
    values = _values(language=language, booking=booking, previous_start=None, review_url="")
    return ANSWERS[kind][language].format(**values, status=STATUS_WORDS[language][booking.status])
