"""Message texts: one per event, audience (customer or staff) and language.

Placeholders: {service}, {salon}, {when} (local date and time), {customer},
{previous_when} (reschedules only), {reason} (cancellations only: " (<words>)",
fitted to the SMS budget, or nothing). The thank-you after a visit ends with the
salon's review link when it has one, in place of its closing words (REVIEW_LINK).

Each text is written to fit the SMS budget (test_segments.py): with service,
salon and customer names of 25 characters, one GSM-7 segment in English (160
characters) and two UCS-2 segments in Arabic (134). The thank-you names only the
salon, so that its links fit.

The waiting list offer, the disruption notice and the staff member's agenda are
composed by their own functions below (``compose_offer``, ``compose_disruption``,
``compose_disruption_summary``, ``compose_agenda``): their texts carry a link or a
list. A row's text is always the SMS one (it is what an SMS twin copies); the
WhatsApp template gets its variables apart. An agenda longer than the SMS budget
lists the appointments that fit and says how many more there are.
"""

from dataclasses import dataclass
from datetime import date, datetime
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
    TAKEN = "taken"  # a waiting list offer's time was taken by someone else
    OFFER_EXPIRED = "offer_expired"  # a waiting list offer's minutes are over
    ENTRY_CLOSED = "entry_closed"  # the waiting list entry was cancelled or expired
    ENTRY_BOOKED = "entry_booked"  # the waiting list entry was booked already (by this person)
    OTHER_TIMES = "other_times"  # a disrupted booking: the free times now
    MOVE_TAKEN = "move_taken"  # a disrupted booking: the chosen time was taken; the free times now


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
    # Waiting list, disruptions, the staff member's day (composed by the functions below)
    (Event.WAITLIST_OFFER, Audience.CUSTOMER, Language.ENGLISH): (
        "A place opened: {service} at {salon}, {when}. Book within {minutes} min: {link}"
    ),
    (Event.WAITLIST_OFFER, Audience.CUSTOMER, Language.ARABIC): (
        "تفرّغ موعد في {salon}، {when}. احجزه خلال {minutes} دقيقة: {link}"
    ),
    (Event.BOOKING_DISRUPTED, Audience.CUSTOMER, Language.ENGLISH): (
        "{salon} cannot keep your booking on {when}. Choose another time or cancel: {link}"
    ),
    (Event.BOOKING_DISRUPTED, Audience.CUSTOMER, Language.ARABIC): (
        "تعذّر على {salon} موعدك {when}. اختر موعداً آخر أو ألغِ: {link}"
    ),
    (Event.BOOKING_DISRUPTED, Audience.STAFF, Language.ENGLISH): (
        "{count} of your appointments at {salon} from {when} cannot go ahead. Their customers are offered other times."
    ),
    (Event.BOOKING_DISRUPTED, Audience.STAFF, Language.ARABIC): (
        "لن تتم {count} من مواعيدك في {salon} ابتداءً من {when}. عُرضت على العملاء مواعيد أخرى."
    ),
    (Event.STAFF_AGENDA, Audience.STAFF, Language.ENGLISH): "Your appointments on {date} at {salon} ({count}): {items}",
    (Event.STAFF_AGENDA, Audience.STAFF, Language.ARABIC): "مواعيدك يوم {date} في {salon} ({count}): {items}",
}
# Events whose texts are composed by their own functions (a link, a list), not by ``compose``.
COMPOSED_APART = frozenset({Event.WAITLIST_OFFER, Event.BOOKING_DISRUPTED, Event.STAFF_AGENDA})

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
    AnswerKind.TAKEN: {
        Language.ENGLISH: "Sorry, that time was just taken. You are still on the waiting list.",
        Language.ARABIC: "عذراً، حُجز هذا الموعد للتو. ما زلت على قائمة الانتظار.",
    },
    AnswerKind.OFFER_EXPIRED: {
        Language.ENGLISH: "Sorry, this offer has expired. You are still on the waiting list.",
        Language.ARABIC: "عذراً، انتهت مهلة هذا العرض. ما زلت على قائمة الانتظار.",
    },
    AnswerKind.ENTRY_CLOSED: {
        Language.ENGLISH: "This waiting list request is closed; nothing was booked.",
        Language.ARABIC: "طلب الانتظار هذا مغلق؛ لم يُحجز شيء.",
    },
    AnswerKind.ENTRY_BOOKED: {
        Language.ENGLISH: "You have already booked from this waiting list request.",
        Language.ARABIC: "لقد حجزت بالفعل من طلب الانتظار هذا.",
    },
    AnswerKind.OTHER_TIMES: {
        Language.ENGLISH: "Free times for your booking at {salon}: {options}. Choose one or cancel: {link}",
        Language.ARABIC: "المواعيد المتاحة لحجزك في {salon}: {options}. اختر موعداً أو ألغِ الحجز: {link}",
    },
    AnswerKind.MOVE_TAKEN: {
        Language.ENGLISH: "Sorry, that time was just taken. Free times now: {options}. Choose one or cancel: {link}",
        Language.ARABIC: "عذراً، حُجز ذلك الموعد للتو. المتاح الآن: {options}. اختر موعداً أو ألغِ الحجز: {link}",
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


def compose_answer(*, kind: AnswerKind, language: str, booking, extra: dict | None = None) -> str:
    """A short answer to a reply, in the person's language and the salon's local time.
    ``extra``: the values of the answers about other times ({options}, {link})."""
    language = _language(language)
    values = _values(language=language, booking=booking, previous_start=None, review_url="")
    return ANSWERS[kind][language].format(**values, status=STATUS_WORDS[language][booking.status], **(extra or {}))


# --- the waiting list, disruptions and the staff member's day ---------------------------------
# What an SMS may cost (test_segments.py holds every text to it).
SMS_BUDGET = {Language.ENGLISH: 1, Language.ARABIC: 2}
# WhatsApp refuses a template variable with a line break, and a body over 1,024 characters.
WHATSAPP_VARIABLE_LIMIT = 700
LIST_SEPARATOR = {Language.ENGLISH: "; ", Language.ARABIC: "، "}
MORE = {Language.ENGLISH: " +{count} more in the Salon app.", Language.ARABIC: " و{count} أخرى في تطبيق صالون."}
NONE_FOUND = {
    Language.ENGLISH: "none nearby, please call the salon",
    Language.ARABIC: "لا يوجد قريباً، يرجى الاتصال بالصالون",
}
NO_OPTION = "—"  # a template variable may not be empty
DISRUPTION_REASON = {
    "closure": {Language.ENGLISH: "the salon is closed", Language.ARABIC: "الصالون مغلق"},
    "time_off": {Language.ENGLISH: "your stylist is unavailable", Language.ARABIC: "المختص غير متاح"},
}


@dataclass(frozen=True)
class Composed:
    """One message's text (the SMS one, on every channel) and its WhatsApp template."""

    text: str
    template: str
    variables: list[str]


def template_name(event: str, audience: str) -> str:
    """``<event>_<audience>``, unless WHATSAPP_TEMPLATES maps it (as ``template_for`` does)."""
    from django.conf import settings

    return settings.WHATSAPP_TEMPLATES.get(f"{event}:{audience}", f"{event}_{audience}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def option_text(start: datetime, staff_name: str, tz) -> str:
    """An alternative time as a reader sees it: ``2026-03-02 10:00 (Sara)``."""
    return f"{local_when(start, tz)} ({_one_line(staff_name)})" if staff_name else local_when(start, tz)


def options_text(options: list[tuple[datetime, str]], *, language: str, tz) -> str:
    language = _language(language)
    if not options:
        return NONE_FOUND[language]
    return LIST_SEPARATOR[language].join(option_text(start, name, tz) for start, name in options)


def compose_offer(*, language: str, service, salon, start: datetime, staff_name: str, minutes: int, link: str):
    """A freed time offered to a customer on the waiting list."""
    language = _language(language)
    values = {
        "service": service.display_name(language),
        "salon": salon.display_name(language),
        "when": local_when(start, salon.tz),
        "minutes": str(minutes),
        "link": link,
    }
    text = TEXTS[(Event.WAITLIST_OFFER, Audience.CUSTOMER, language)].format(**values)
    variables = [values["service"], values["salon"], values["when"], _one_line(staff_name) or NO_OPTION, str(minutes)]
    return Composed(text, template_name(Event.WAITLIST_OFFER, Audience.CUSTOMER), variables)


def compose_disruption(
    *, language: str, booking, cause: str, reason: str, options: list[tuple[datetime, str]], link: str
) -> Composed:
    """A disrupted booking, to its customer: up to three other times (the buttons) or cancel."""
    language = _language(language)
    salon = booking.salon
    values = _values(language=language, booking=booking, previous_start=None, review_url="")
    text = TEXTS[(Event.BOOKING_DISRUPTED, Audience.CUSTOMER, language)].format(**values, link=link)
    why = _one_line(reason)[:60] or DISRUPTION_REASON[cause][language]
    shown = [option_text(start, name, salon.tz) for start, name in options[:3]]
    shown += [NO_OPTION] * (3 - len(shown))
    variables = [values["service"], values["salon"], values["when"], why, *shown]
    return Composed(text, template_name(Event.BOOKING_DISRUPTED, Audience.CUSTOMER), variables)


def compose_disruption_summary(*, language: str, salon, count: int, first_start: datetime, reason: str, cause: str):
    """A staff member's appointments that cannot go ahead, in one message."""
    language = _language(language)
    values = {"count": str(count), "salon": salon.display_name(language), "when": local_when(first_start, salon.tz)}
    text = TEXTS[(Event.BOOKING_DISRUPTED, Audience.STAFF, language)].format(**values)
    why = _one_line(reason)[:60] or DISRUPTION_REASON[cause][language]
    variables = [values["count"], values["salon"], values["when"], why]
    return Composed(text, template_name(Event.BOOKING_DISRUPTED, Audience.STAFF), variables)


def agenda_item(booking, language: str) -> str:
    """``10:00 Haircut (Chris)``: the time, the service and the customer's first name."""
    language = _language(language)
    first_name = (booking.customer.name or "").split()[:1]
    who = _one_line(first_name[0]) if first_name else UNNAMED_CUSTOMER[language]
    when = booking.start.astimezone(booking.salon.tz).strftime("%H:%M")
    return f"{when} {_one_line(booking.service.display_name(language))} ({who})"


def _listed(items: list[str], shown: int, language: str) -> str:
    text = LIST_SEPARATOR[language].join(items[:shown])
    if shown < len(items):
        text += MORE[language].format(count=len(items) - shown)
    return text.strip()


def compose_agenda(*, language: str, salon, day: date, bookings: list) -> Composed:
    """A staff member's next day, in order. The SMS text lists what fits its budget
    and how many more there are; WhatsApp's variable lists up to ~700 characters."""
    language = _language(language)
    items = [agenda_item(booking, language) for booking in bookings]
    head = {"date": day.isoformat(), "salon": salon.display_name(language), "count": str(len(items))}
    template = TEXTS[(Event.STAFF_AGENDA, Audience.STAFF, language)]
    shown = len(items)
    text = template.format(**head, items=_listed(items, shown, language))
    while shown > 0 and sms_size(text).segments > SMS_BUDGET[language]:
        shown -= 1
        text = template.format(**head, items=_listed(items, shown, language))
    whatsapp = len(items)
    while whatsapp > 1 and len(_listed(items, whatsapp, language)) > WHATSAPP_VARIABLE_LIMIT:
        whatsapp -= 1
    variables = [head["date"], head["salon"], head["count"], _listed(items, whatsapp, language)]
    return Composed(text, template_name(Event.STAFF_AGENDA, Audience.STAFF), variables)
