import re
from collections import Counter
from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.bookings.admin_desk import refusal_text, status_label
from apps.common.admin import (
    ReadOnlyAdminMixin,
    SalonScopedAdmin,
    StrictLookupsAdmin,
    local_time,
    managed_salon_id,
    person_html,
    phone_html,
)
from apps.notifications.consent import consent_record
from apps.notifications.delivery.resend import RESEND_RESULT_TEXT, ResendResult, notification_resend
from apps.notifications.models import (
    ConsentSource,
    DeliveryAttempt,
    InboundMessage,
    MarketingConsent,
    Notification,
    SalonNotificationSettings,
    SkipReason,
    WhatsAppTemplate,
    default_reminder_offsets,
    validate_reminder_offsets,
)
from apps.notifications.reminders import salon_reminders_replan
from apps.notifications.selectors import format_cost, message_usage, usage_totals

# Why a message was skipped (a SkipReason code, in the reader's language) or failed
# (the provider's own answer, shown as it came, left to right).
_GAVE_UP = re.compile(r"Gave up after (\d+) attempts\. Last error: (.*)", re.S)
_ATTEMPT_FAILED = re.compile(r"Attempt (\d+) failed: (.*)", re.S)


def _provider_words(words: str):
    return format_html('{} <bdi dir="ltr">{}</bdi>', gettext("Provider's answer:"), Truncator(words).chars(80))


def notification_reason_html(reason: str):
    """A notification's reason in the reader's language."""
    if not reason:
        return ""
    if reason in SkipReason.values:
        return str(SkipReason(reason).label)
    code, _, rest = reason.partition(": ")
    if code in SkipReason.values:  # e.g. "opted_out: [21610] ..." (the provider said so)
        return format_html("{} {}", SkipReason(code).label, _provider_words(rest))
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


def _month(text: str) -> date | None:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


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
        "encoding",
        "segments",
        "provider_segments",
        "price",
        "price_unit",
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
    list_display = ["created_local", "event", "recipient_display", "channel_used", "status", "reason_short"]
    list_filter = ["status", "event", "message_class", "channel", "reroute", "provider", "booking__salon"]
    search_fields = ["phone", "provider_message_id", "=booking__id"]
    list_select_related = ["booking__salon", "recipient"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    readonly_fields = [
        "booking",
        "recipient_display",
        "phone_display",
        "event",
        "message_class",
        "channel_used",
        "replaced",
        "sequence",
        "agenda_date",
        "status",
        "provider",
        "message",
        "reason_display",
        "provider_message_id",
        "delivery_status",
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

    @admin.display(description=_("channel used"), ordering="channel")
    def channel_used(self, notification):
        if not notification.reroute:
            return notification.get_channel_display()
        return format_html("{} ({})", notification.get_channel_display(), notification.get_reroute_display())

    @admin.display(description=_("sent instead of / replaced by"))
    def replaced(self, notification):
        other = notification.fallback_of or getattr(notification, "fallback", None)
        if other is None:
            return "—"
        return format_html('<a href="../../{}/change/">#{} ({})</a>', other.pk, other.pk, other.get_channel_display())

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
            outcome = RESEND_RESULT_TEXT.get(result, result)
            text = gettext("Not queued: %(count)s (%(why)s).") % {"count": count, "why": outcome}
            self.message_user(request, text, messages.WARNING)

    def get_urls(self):
        usage = path("usage/", self.admin_site.admin_view(self.usage_view), name="notifications_notification_usage")
        return [usage, *super().get_urls()]

    def usage_view(self, request):
        """Messages, SMS segments and cost per month, for the manager's own salon (all salons for superusers)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        salon_id = managed_salon_id(request.user)
        if salon_id is None and not request.user.is_superuser:
            raise PermissionDenied
        month = _month(request.GET.get("month", "")) or timezone.localdate().replace(day=1)
        rows = message_usage(month=month, salon_id=salon_id)
        total = usage_totals(rows)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Message usage"),
            "month": month,
            "previous_month": (month.replace(day=1) - timedelta(days=1)).replace(day=1),
            "next_month": (month.replace(day=28) + timedelta(days=4)).replace(day=1),
            "rows": [(row, format_cost(row.cost)) for row in rows],
            "total": total,
            "total_cost": format_cost(total["cost"]),
        }
        return TemplateResponse(request, "admin/notifications/usage.html", context)


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
    # Left empty: the default, 21:00.
    staff_agenda_time = forms.TimeField(
        label=_("Staff agenda at"), required=False, help_text=_("Salon local time. Empty: 21:00.")
    )

    def clean_staff_agenda_time(self):
        return (
            self.cleaned_data.get("staff_agenda_time")
            or SalonNotificationSettings._meta.get_field("staff_agenda_time").get_default()
        )

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
            "promotional_start",
            "promotional_end",
            "staff_agenda_time",
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


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(StrictLookupsAdmin):
    """What Meta last said about each WhatsApp template (kept from its webhooks).
    Managers read it; a superuser may set a state by hand (e.g. after an appeal)."""

    list_display = ["name", "language", "status", "category", "quality", "updated_at"]
    list_filter = ["status", "category", "quality", "language"]
    search_fields = ["name"]
    fields = ["name", "language", "status", "category", "quality", "reason", "meta_template_id", "updated_at"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class MarketingConsentForm(forms.ModelForm):
    class Meta:
        model = MarketingConsent
        fields = ["user", "channel", "granted"]


@admin.register(MarketingConsent)
class MarketingConsentAdmin(StrictLookupsAdmin):
    """The consent ledger, read-only but for new decisions: a manager records consent
    given at the salon (source "admin", with the words shown) for a customer who has
    booked there; nobody changes or deletes a row. A manager sees only the decisions
    of their salon's customers."""

    form = MarketingConsentForm
    list_display = ["at", "person", "channel", "granted", "source", "version"]
    list_filter = ["channel", "granted", "source"]
    list_select_related = ["user"]
    readonly_fields = ["at", "source", "wording", "version", "recorded_by"]

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        salon_id = managed_salon_id(request.user)
        if salon_id is None:
            return rows.none()
        return rows.filter(user__in=_salon_customers(salon_id))

    def get_object(self, request, object_id, from_field=None):
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(_("Not found."))
        return found

    def get_fields(self, request, obj=None):
        return ["user", "channel", "granted"] if obj is None else ["user", "channel", "granted", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ["user", "channel", "granted", *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = _salon_customers(managed_salon_id(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("person"), ordering="user__name")
    def person(self, consent):
        return person_html(consent.user)

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        consent_record(
            user=obj.user,
            channel=obj.channel,
            granted=obj.granted,
            source=ConsentSource.ADMIN,
            recorded_by=request.user,
        )


def _salon_customers(salon_id):
    from apps.accounts.models import Role, User

    return User.objects.filter(role=Role.CUSTOMER, customer_bookings__salon_id=salon_id).distinct()
