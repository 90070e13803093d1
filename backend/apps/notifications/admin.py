from collections import Counter

from django.contrib import admin, messages

from apps.notifications.delivery import RESEND_RESULT_TEXT, ResendResult, notification_resend
from apps.notifications.models import DeliveryAttempt, Notification


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

    @admin.display(description="duration (ms)")
    def duration(self, attempt: DeliveryAttempt) -> int:
        return attempt.duration_ms


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The audit of every message: read-only, filterable, failed ones resendable."""

    list_display = ["id", "booking", "recipient", "event", "channel", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["event", "status", "channel", "provider"]
    search_fields = ["phone", "provider_message_id", "booking__id"]
    list_select_related = ["booking", "recipient"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "booking",
        "recipient",
        "phone",
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend failed notifications")
    def resend_failed(self, request, queryset):
        results = Counter(notification_resend(notification=notification) for notification in queryset)
        queued = results.pop(ResendResult.QUEUED, 0)
        self.message_user(request, f"Queued {queued} failed notification(s) again.", messages.SUCCESS)
        for result, count in sorted(results.items()):
            self.message_user(request, f"Not queued: {count} ({RESEND_RESULT_TEXT[result]}).", messages.WARNING)
