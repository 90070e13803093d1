from django.contrib import admin, messages

from apps.notifications.models import Notification, NotificationStatus
from apps.notifications.services import notification_resend


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
        "created_at",
        "updated_at",
        "sent_at",
    ]
    fields = readonly_fields
    actions = ["resend_failed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend failed notifications")
    def resend_failed(self, request, queryset):
        failed = queryset.filter(status=NotificationStatus.FAILED).select_related("booking", "recipient")
        count = 0
        for notification in failed:
            notification_resend(notification=notification)
            count += 1
        self.message_user(request, f"Queued {count} failed notification(s) again.", messages.SUCCESS)
