"""Message texts: one per event, audience (customer or staff) and language.

Placeholders: {service}, {salon}, {when} (local date and time), {customer},
{previous_when} (reschedules only).
"""

from datetime import datetime

from apps.accounts.models import Language
from apps.notifications.models import NotificationEvent as Event

CUSTOMER = "customer"
STAFF = "staff"

TEXTS: dict[tuple[str, str, str], str] = {
    # Customer, English
    (Event.BOOKING_CREATED, CUSTOMER, Language.ENGLISH): (
        "Your booking request is received for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CONFIRMED, CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} on {when} is confirmed."
    ),
    (Event.BOOKING_CANCELLED, CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} on {when} is cancelled."
    ),
    (Event.BOOKING_RESCHEDULED, CUSTOMER, Language.ENGLISH): (
        "Your booking for {service} at {salon} moved from {previous_when} to {when}."
    ),
    (Event.BOOKING_REMINDER, CUSTOMER, Language.ENGLISH): (
        "Reminder: your booking for {service} at {salon} is on {when}."
    ),
    # Staff, English
    (Event.BOOKING_CREATED, STAFF, Language.ENGLISH): (
        "New booking request: {customer} for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CONFIRMED, STAFF, Language.ENGLISH): (
        "Appointment confirmed: {customer} for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_CANCELLED, STAFF, Language.ENGLISH): (
        "Appointment cancelled: {customer} for {service} at {salon} on {when}."
    ),
    (Event.BOOKING_RESCHEDULED, STAFF, Language.ENGLISH): (
        "Appointment moved: {customer} for {service} at {salon}, from {previous_when} to {when}."
    ),
    (Event.BOOKING_REMINDER, STAFF, Language.ENGLISH): ("Reminder: {customer} for {service} at {salon} on {when}."),
    # Customer, Arabic
    (Event.BOOKING_CREATED, CUSTOMER, Language.ARABIC): (
        "تم استلام طلب حجزك لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CONFIRMED, CUSTOMER, Language.ARABIC): ("تم تأكيد حجزك لخدمة {service} في {salon} بتاريخ {when}."),
    (Event.BOOKING_CANCELLED, CUSTOMER, Language.ARABIC): ("تم إلغاء حجزك لخدمة {service} في {salon} بتاريخ {when}."),
    (Event.BOOKING_RESCHEDULED, CUSTOMER, Language.ARABIC): (
        "تم نقل حجزك لخدمة {service} في {salon} من {previous_when} إلى {when}."
    ),
    (Event.BOOKING_REMINDER, CUSTOMER, Language.ARABIC): ("تذكير: موعد حجزك لخدمة {service} في {salon} بتاريخ {when}."),
    # Staff, Arabic
    (Event.BOOKING_CREATED, STAFF, Language.ARABIC): (
        "طلب حجز جديد: {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CONFIRMED, STAFF, Language.ARABIC): (
        "تم تأكيد موعد {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_CANCELLED, STAFF, Language.ARABIC): (
        "تم إلغاء موعد {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
    (Event.BOOKING_RESCHEDULED, STAFF, Language.ARABIC): (
        "تم نقل موعد {customer} لخدمة {service} في {salon} من {previous_when} إلى {when}."
    ),
    (Event.BOOKING_REMINDER, STAFF, Language.ARABIC): (
        "تذكير: موعد {customer} لخدمة {service} في {salon} بتاريخ {when}."
    ),
}

UNNAMED_CUSTOMER = {Language.ENGLISH: "a customer", Language.ARABIC: "عميل"}


def local_when(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _values(*, language: str, booking, previous_start: datetime | None) -> dict[str, str]:
    salon = booking.salon
    return {
        "service": booking.service.display_name(language),
        "salon": salon.display_name(language),
        "when": local_when(booking.start, salon.tz),
        "previous_when": local_when(previous_start or booking.start, salon.tz),
        "customer": booking.customer.name or UNNAMED_CUSTOMER[language],
    }


def _language(language: str) -> str:
    return language if language in Language.values else Language.ARABIC


def compose(*, event: str, audience: str, language: str, booking, previous_start: datetime | None = None) -> str:
    """The text for one recipient, in their language and the salon's local time."""
    language = _language(language)
    return TEXTS[(event, audience, language)].format(
        **_values(language=language, booking=booking, previous_start=previous_start)
    )


def template_for(
    *, event: str, audience: str, language: str, booking, previous_start: datetime | None = None
) -> tuple[str, list[str]]:
    """The WhatsApp template name and its ordered variables for one recipient.

    Names default to ``<event>_<audience>`` (e.g. ``booking_created_customer``),
    overridable per event and audience in ``WHATSAPP_TEMPLATES``; each template
    exists once per language (ar, en) in the WhatsApp manager.
    """
    from django.conf import settings

    language = _language(language)
    values = _values(language=language, booking=booking, previous_start=previous_start)
    order = ["service", "salon", "when"]
    if event == Event.BOOKING_RESCHEDULED:
        order = ["service", "salon", "previous_when", "when"]
    if audience == STAFF:
        order = ["customer", *order]
    name = settings.WHATSAPP_TEMPLATES.get(f"{event}:{audience}", f"{event}_{audience}")
    return name, [values[key] for key in order]
