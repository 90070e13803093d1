from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from apps.common.admin import ReadOnlyAdminMixin, SalonScopedAdmin, local_time, person_html, phone_html
from apps.notifications.delivery import RESEND_RESULT_TEXT, ResendResult, notification_resend
from apps.notifications.models import (
    DeliveryAttempt,
    InboundMessage,
    Notification,
    SalonNotificationSettings,
    validate_reminder_offsets,
)
from apps.notifications.reminders import salon_reminders_replan


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
        "reason",
        "provider_message_id",
        "attempts",
        "retry_until",
        "created_at",
        "updated_at",
        "sent_at",
    ]
    fields = readonly_fields
    inlines = [DeliveryAttemptInline]
    actions = ["resend_failed"]

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
        return Truncator(notification.reason).chars(80) if notification.reason else ""

    @admin.action(description=_("Resend failed notifications"), permissions=["view"])
    def resend_failed(self, request, queryset):
        results = Counter(notification_resend(notification=notification) for notification in queryset)
        queued = results.pop(ResendResult.QUEUED, 0)
        self.message_user(request, f"Queued {queued} failed notification(s) again.", messages.SUCCESS)
        for result, count in sorted(results.items()):
            self.message_user(request, f"Not queued: {count} ({RESEND_RESULT_TEXT[result]}).", messages.WARNING)


class MinutesListField(forms.CharField):
    """Reminder offsets typed as "1440, 120" (minutes before the start)."""

    def prepare_value(self, value):
        return ", ".join(str(minutes) for minutes in value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        try:
            minutes = [int(part) for part in text.replace("،", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Give whole minutes separated by commas, for example 1440, 120.") from None
        validate_reminder_offsets(minutes)
        return minutes


class SalonNotificationSettingsForm(forms.ModelForm):
    reminder_offsets_minutes = MinutesListField(
        label=_("Reminders (minutes before the start)"),
        help_text="For example 1440, 120: a day and two hours before. The staff member hears at the shortest.",
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        salon_reminders_replan(salon_id=obj.salon_id)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, SalonScopedAdmin):
    """What people sent us: button replies (and what they did), STOP, text. Read-only."""

    list_display = ["received_local", "sender", "action", "outcome", "text_short", "reason"]
    list_filter = ["outcome", "action", "channel"]
    search_fields = ["phone", "text"]
    list_select_related = ["user", "salon"]
    ordering = ["-received_at", "-id"]
    fields = [
        "received_at",
        "channel",
        "provider",
        "provider_message_id",
        "phone",
        "user",
        "text",
        "button_text",
        "booking",
        "action",
        "outcome",
        "reason",
    ]
    readonly_fields = fields

    @admin.display(description=_("received (salon time)"), ordering="received_at")
    def received_local(self, message):
        return local_time(message.received_at, message.salon.tz if message.salon else None)

    @admin.display(description=_("sender"))
    def sender(self, message):
        return person_html(message.user) if message.user else phone_html(message.phone)

    @admin.display(description=_("text"))
    def text_short(self, message):
        return Truncator(message.button_text or message.text).chars(80)
