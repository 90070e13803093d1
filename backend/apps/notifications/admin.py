import re
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import NO_PHONE_REASON, OPTED_OUT_REASON
from apps.bookings.admin_desk import refusal_text, status_label
from apps.common.admin import (
    ReadOnlyAdminMixin,
    SalonScopedAdmin,
    local_time,
    managed_salon_id,
    person_html,
    phone_html,
)
from apps.notifications.delivery import (
    APPOINTMENT_STARTED_REASON,
    BOOKING_MOVED_REASON,
    ResendResult,
    notification_resend,
)
from apps.notifications.models import (
    DeliveryAttempt,
    InboundMessage,
    Notification,
    SalonNotificationSettings,
    default_reminder_offsets,
    validate_reminder_offsets,
)
from apps.notifications.reminders import QUIET_HOURS_REASON, salon_reminders_replan

# Why a message was skipped or failed, as the admin says it (the rows keep the
# sentences delivery wrote; a provider's own answer is shown as it came, left to right).
SKIP_REASONS = {
    NO_PHONE_REASON: _("The recipient has no phone number."),
    OPTED_OUT_REASON: _("The recipient opted out of this channel."),
    QUIET_HOURS_REASON: _("Quiet hours: no allowed moment was left before this reminder."),
    APPOINTMENT_STARTED_REASON: _("The appointment started before this message could be sent."),
    BOOKING_MOVED_REASON: _(
        "The booking was moved after this reminder was written; its reminders follow the new time."
    ),
}
_GAVE_UP = re.compile(r"Gave up after (\d+) attempts\. Last error: (.*)", re.S)
_ATTEMPT_FAILED = re.compile(r"Attempt (\d+) failed: (.*)", re.S)
RESEND_OUTCOMES = {
    ResendResult.NOT_FAILED: _("not failed (nothing to resend)"),
    ResendResult.NO_PHONE: _("recipient has no phone"),
    ResendResult.OPTED_OUT: _("recipient opted out of the channel"),
    ResendResult.APPOINTMENT_STARTED: _("the appointment has started"),
}


def _provider_words(words: str):
    return format_html('{} <bdi dir="ltr">{}</bdi>', gettext("Provider's answer:"), Truncator(words).chars(80))


def notification_reason_html(reason: str):
    """A notification's reason in the reader's language."""
    if not reason:
        return ""
    for sentence, words in SKIP_REASONS.items():
        if reason == sentence or reason.startswith(f"{sentence} ") or reason.startswith(f"{sentence}:"):
            rest = reason[len(sentence) :].lstrip(": ").removeprefix("Last error: ")
            return format_html("{} {}", words, _provider_words(rest)) if rest else str(words)
    if found := _GAVE_UP.match(reason):
        text = gettext("Gave up after %(count)s attempts.") % {"count": found[1]}
        return format_html("{} {}", text, _provider_words(found[2]))
    if found := _ATTEMPT_FAILED.match(reason):
        text = gettext("Attempt %(number)s failed.") % {"number": found[1]}
        return format_html("{} {}", text, _provider_words(found[2]))
    return _provider_words(reason)


# What an inbound reply's refusal or oddity says, in the reader's language.
INBOUND_REASONS = {
    "Unknown sender.": _("Unknown sender."),
    "The button's token is forged, altered or not ours.": _("The button is not one of ours (forged or altered)."),
    "The button's booking does not exist.": _("The button's booking does not exist."),
    "The sender is not the person the button was sent to.": _("The sender is not the person the button was sent to."),
    "The booking was moved after the message with this button.": _(
        "The booking was moved after the message with this button."
    ),
    "The booking has started.": _("The booking has started."),
}
_ALREADY = re.compile(r"The booking is already (\w+)\.")
_REFUSED_WITH_CODE = re.compile(r"\[(\w+)\] (.*)", re.S)


def inbound_reason_text(message: InboundMessage) -> str:
    """Why a reply was refused or ignored, in words (never "[invalid_transition] ...")."""
    reason = message.reason
    if reason in INBOUND_REASONS:
        return str(INBOUND_REASONS[reason])
    if (found := _ALREADY.fullmatch(reason)) and found[1] in dict(_status_choices()):
        return gettext("The booking is already “%(status)s”.") % {"status": status_label(found[1])}
    if found := _REFUSED_WITH_CODE.fullmatch(reason):
        return refusal_text(found[1], fallback=found[2])
    return reason


# A provider's name and message ids: for the operator (superusers), not the salon.
PROVIDER_FIELDS = {"provider", "provider_message_id"}


def _for_the_reader(request, fields):
    return fields if request.user.is_superuser else [f for f in fields if f not in PROVIDER_FIELDS]


def _status_choices():
    from apps.bookings.models import BookingStatus

    return BookingStatus.choices


class DeliveryAttemptInline(admin.TabularInline):
    """Every provider call for the message: when, how long, and what the provider said."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = [
        "number",
        "provider",
        "started_at",
        "duration",
        "outcome",
        "provider_message_id",
        "error_code",
        "error_message",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        return _for_the_reader(request, super().get_fields(request, obj))

    @admin.display(description=_("duration (ms)"))
    def duration(self, attempt: DeliveryAttempt) -> int:
        return attempt.duration_ms


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, SalonScopedAdmin):
    """The audit of every message: read-only, filterable, failed ones resendable."""

    salon_path = "booking__salon_id"
    list_display = ["created_local", "event", "recipient_display", "channel", "status", "reason_short"]
    list_filter = ["status", "event", "channel", "provider", "booking__salon"]
    search_fields = ["phone", "provider_message_id", "=booking__id"]
    list_select_related = ["booking__salon", "recipient"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    readonly_fields = [
        "booking",
        "recipient_display",
        "phone_display",
        "event",
        "channel",
        "sequence",
        "status",
        "provider",
        "message",
        "reason_display",
        "provider_message_id",
        "attempts",
        "retry_until_local",
        "created_local_with_zone",
        "updated_local",
        "sent_local",
    ]
    fields = readonly_fields
    inlines = [DeliveryAttemptInline]
    actions = ["resend_failed"]

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        # Which provider carried a message is the operator's concern, not the salon's.
        return filters if request.user.is_superuser else [f for f in filters if f != "provider"]

    def get_fields(self, request, obj=None):
        return _for_the_reader(request, super().get_fields(request, obj))

    @admin.display(description=_("created (salon time)"), ordering="created_at")
    def created_local(self, notification):
        return local_time(notification.created_at, notification.booking.salon.tz)

    @admin.display(description=_("recipient"), ordering="recipient__name")
    def recipient_display(self, notification):
        return person_html(notification.recipient)

    @admin.display(description=_("phone as sent"))
    def phone_display(self, notification):
        return phone_html(notification.phone)

    @admin.display(description=_("reason"))
    def reason_short(self, notification):
        return notification_reason_html(notification.reason)

    @admin.display(description=_("reason"))
    def reason_display(self, notification):
        return notification_reason_html(notification.reason)

    @admin.display(description=_("created at"))
    def created_local_with_zone(self, notification):
        return local_time(notification.created_at, notification.booking.salon.tz, with_zone=True)

    @admin.display(description=_("updated at"))
    def updated_local(self, notification):
        return local_time(notification.updated_at, notification.booking.salon.tz, with_zone=True)

    @admin.display(description=_("sent at"))
    def sent_local(self, notification):
        return local_time(notification.sent_at, notification.booking.salon.tz, with_zone=True)

    @admin.display(description=_("retry until"))
    def retry_until_local(self, notification):
        return local_time(notification.retry_until, notification.booking.salon.tz, with_zone=True)

    @admin.action(description=_("Resend failed notifications"), permissions=["view"])
    def resend_failed(self, request, queryset):
        results = Counter(notification_resend(notification=notification) for notification in queryset)
        queued = results.pop(ResendResult.QUEUED, 0)
        self.message_user(
            request, gettext("Queued %(count)s failed notification(s) again.") % {"count": queued}, messages.SUCCESS
        )
        for result, count in sorted(results.items()):
            outcome = RESEND_OUTCOMES.get(result, result)
            text = gettext("Not queued: %(count)s (%(why)s).") % {"count": count, "why": outcome}
            self.message_user(request, text, messages.WARNING)


class MinutesListField(forms.CharField):
    """Reminder offsets typed as "1440, 120" (minutes before the start)."""

    def prepare_value(self, value):
        return ", ".join(str(minutes) for minutes in value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        try:
            minutes = [int(part) for part in text.replace("،", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Give whole minutes separated by commas, for example 1440, 120.")) from None
        validate_reminder_offsets(minutes)
        return minutes


class SalonNotificationSettingsForm(forms.ModelForm):
    reminder_offsets_minutes = MinutesListField(
        label=_("Reminders (minutes before the start)"),
        initial=default_reminder_offsets,
        help_text=_("For example 1440, 120: a day and two hours before. The staff member hears at the shortest."),
    )
    # A link typed without a scheme is https (Django 6's default; said here to be explicit today).
    review_url = forms.URLField(label=_("Review link in the thank-you"), required=False, assume_scheme="https")

    class Meta:
        model = SalonNotificationSettings
        fields = [
            "salon",
            "reminder_offsets_minutes",
            "quiet_hours_start",
            "quiet_hours_end",
            "send_completed",
            "review_url",
            "send_no_show",
        ]


@admin.register(SalonNotificationSettings)
class SalonNotificationSettingsAdmin(SalonScopedAdmin):
    """A salon's reminders, quiet hours and after-visit messages; saving plans the
    reminders of its future bookings again."""

    form = SalonNotificationSettingsForm
    list_display = ["salon", "reminder_offsets_minutes", "quiet_hours_start", "quiet_hours_end", "send_completed"]

    # A manager has one salon and so one set of settings: the list, and "Add" once
    # they exist, open them; before they exist "Add" shows the defaults in force.
    # Their salon is not a choice (it is set on save).
    def changelist_view(self, request, extra_context=None):
        salon_id = managed_salon_id(request.user)
        if salon_id is None:
            return super().changelist_view(request, extra_context)
        return HttpResponseRedirect(self._settings_url(salon_id))

    def add_view(self, request, form_url="", extra_context=None):
        salon_id = managed_salon_id(request.user)
        existing = SalonNotificationSettings.objects.filter(salon_id=salon_id).first() if salon_id else None
        if existing is not None:
            return HttpResponseRedirect(
                reverse("admin:notifications_salonnotificationsettings_change", args=[existing.pk])
            )
        return super().add_view(request, form_url, extra_context)

    def _settings_url(self, salon_id: int) -> str:
        existing = SalonNotificationSettings.objects.filter(salon_id=salon_id).first()
        if existing is not None:
            return reverse("admin:notifications_salonnotificationsettings_change", args=[existing.pk])
        return reverse("admin:notifications_salonnotificationsettings_add")

    def get_exclude(self, request, obj=None):
        return ["salon"] if managed_salon_id(request.user) is not None else []

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [f for f in fields if f != "salon"] if managed_salon_id(request.user) is not None else fields

    def save_model(self, request, obj, form, change):
        salon_id = managed_salon_id(request.user)
        if salon_id is not None:
            obj.salon_id = salon_id
        super().save_model(request, obj, form, change)
        salon_reminders_replan(salon_id=obj.salon_id)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, SalonScopedAdmin):
    """What people sent us: button replies (and what they did), STOP, text. Read-only."""

    list_display = ["received_local", "sender", "action", "outcome", "text_short", "reason_display"]
    list_filter = ["outcome", "action", "channel"]
    search_fields = ["phone", "text"]
    list_select_related = ["user", "salon"]
    ordering = ["-received_at", "-id"]
    fields = [
        "received_with_zone",
        "channel",
        "provider",
        "provider_message_id",
        "phone_display",
        "user",
        "text",
        "button_text",
        "booking",
        "action",
        "outcome",
        "reason_display",
    ]
    readonly_fields = fields

    def get_fields(self, request, obj=None):
        return _for_the_reader(request, super().get_fields(request, obj))

    @admin.display(description=_("received (salon time)"), ordering="received_at")
    def received_local(self, message):
        return local_time(message.received_at, message.salon.tz if message.salon else None)

    @admin.display(description=_("sender"))
    def phone_display(self, message):
        return phone_html(message.phone)

    @admin.display(description=_("sender"))
    def sender(self, message):
        return person_html(message.user) if message.user else phone_html(message.phone)

    @admin.display(description=_("text"))
    def text_short(self, message):
        return Truncator(message.button_text or message.text).chars(80)

    @admin.display(description=_("reason"))
    def reason_display(self, message):
        return inbound_reason_text(message)

    @admin.display(description=_("received at"))
    def received_with_zone(self, message):
        if message.salon is None:
            return local_time(message.received_at, None)
        return local_time(message.received_at, message.salon.tz, with_zone=True)
