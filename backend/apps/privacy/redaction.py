"""The one writer of redactions: personal data removed from rows that stay.

Every function here is an UPDATE of existing rows (the outbox stays the only
writer of new ``Notification`` rows). Erasure calls them for one person at once;
retention for everyone's old messages, a batch at a time. What a redacted message
keeps: event, channel, status, provider, times, provider message id, skip-reason
code, and its attempts' outcome, error code, segments and price (statistics and
the monthly usage stay right).
"""

import phonenumbers
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.notifications.models import DeliveryAttempt, InboundMessage, Notification, SkipReason

# What a redacted account's admin log entries name it.
ERASED_REPR = "erased person #{pk}"


def phone_forms(e164: str) -> list[str]:
    """The ways a number is written in our rows: ``+966512345602`` as stored,
    ``966512345602`` (Meta, Unifonic), ``0512345602`` (shown to Saudi readers) and
    ``whatsapp:+966...`` (Twilio's WhatsApp addresses)."""
    if not e164:
        return []
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    national = "".join(ch for ch in national if ch.isdigit())
    digits = e164.lstrip("+")
    return list(dict.fromkeys([e164, digits, national, f"whatsapp:{e164}", f"whatsapp:{digits}"]))


def _skip_reason_kept():
    # A skip reason is a code (kept for statistics); a provider's error text may quote the number.
    return Case(When(reason__in=SkipReason.values, then=F("reason")), default=Value(""), output_field=TextField())


def redact_notifications(rows: QuerySet[Notification], *, phone: bool = True) -> int:
    """Remove the text of ``rows`` (message, template variables, reply buttons, a
    provider's error text) and, unless ``phone=False``, the phone as sent. Their
    attempts lose the provider's error text (the code stays). Returns how many rows
    changed."""
    DeliveryAttempt.objects.filter(notification__in=rows).exclude(error_message="").update(error_message="")
    changes = {"message": "", "variables": [], "buttons": [], "reason": _skip_reason_kept()}
    if phone:
        changes["phone"] = ""
    return rows.update(**changes)


def redact_inbound(rows: QuerySet[InboundMessage]) -> int:
    """Remove what a person sent us (text, the sender's number, the button's token);
    the channel, the action it asked for, the outcome and the times stay."""
    return rows.update(text="", phone="", button_payload="")


def redact_booking_notes(rows: QuerySet[Booking]) -> int:
    """A booking's note is free text about its customer."""
    return rows.exclude(note="").update(note="", updated_at=timezone.now())


def redact_person(user: User) -> None:
    """The account stays (its bookings and messages point to it) without name,
    phone or password, and can no longer log in: authentication reads the user on
    every request, so its tokens are refused from the next one."""
    user.phone = None
    user.name = ""
    user.preferred_channel = ""
    user.whatsapp_unreachable_until = None
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=["phone", "name", "preferred_channel", "whatsapp_unreachable_until", "is_active", "password"]
    )


def redact_data_requests(rows: QuerySet) -> int:
    """What the person wrote in their earlier requests; kind and times stay (the log)."""
    return rows.exclude(details="").update(details="")


def redact_admin_log(user: User, *, forms: list[str], booking_ids: list[int]) -> int:
    """The admin's history names people in its object descriptions: the entries
    about this account and its bookings are renamed, and the number is masked out
    of any other entry."""
    changed = 0
    user_type = ContentType.objects.get_for_model(User)
    changed += LogEntry.objects.filter(content_type=user_type, object_id=str(user.pk)).update(
        object_repr=ERASED_REPR.format(pk=user.pk)
    )
    if booking_ids:
        changed += LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking), object_id__in=[str(pk) for pk in booking_ids]
        ).update(object_repr=Concat(Value("booking #"), F("object_id"), output_field=TextField()))
    if forms:
        quoted = Q()
        for form in forms:
            quoted |= Q(object_repr__contains=form) | Q(change_message__contains=form)
        for entry in LogEntry.objects.filter(quoted):
            for form in forms:
                entry.object_repr = entry.object_repr.replace(form, "***")
                entry.change_message = entry.change_message.replace(form, "***")
            entry.save(update_fields=["object_repr", "change_message"])
            changed += 1
    return changed
