from django.contrib import admin, messages

from apps.bookings.models import Booking, BookingStatus
from apps.bookings.selectors import booking_list
from apps.bookings.services import booking_change_status
from apps.common.errors import AppError
from apps.notifications.models import Notification


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    fields = ["event", "recipient", "channel", "status", "reason", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _status_action(status: str, label: str):
    def action(modeladmin, request, queryset):
        done = 0
        for booking in queryset:
            try:
                booking_change_status(actor=request.user, booking_id=booking.pk, status=status)
                done += 1
            except AppError as exc:
                modeladmin.message_user(request, f"Booking #{booking.pk}: {exc.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{label}: {done} booking(s).", messages.SUCCESS)

    action.__name__ = f"mark_{status}"
    action.short_description = label
    return action


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Status changes go through the booking service (so messages are sent);
    the change form shows bookings but does not edit their schedule or status."""

    list_display = ["id", "salon", "service", "customer", "staff", "start", "status"]
    list_filter = ["status", "salon", "start"]
    search_fields = ["customer__phone", "customer__name", "staff__name"]
    list_select_related = ["salon", "service", "customer", "staff"]
    readonly_fields = [
        "salon",
        "service",
        "customer",
        "staff",
        "start",
        "end",
        "status",
        "reschedule_count",
        "customer_confirmed_at",
        "cancellation_reason",
        "created_at",
        "updated_at",
    ]
    fields = [*readonly_fields[:7], "note", *readonly_fields[7:]]
    inlines = [NotificationInline]
    actions = [
        _status_action(BookingStatus.CONFIRMED, "Confirm"),
        _status_action(BookingStatus.CANCELLED, "Cancel"),
        _status_action(BookingStatus.COMPLETED, "Mark completed"),
        _status_action(BookingStatus.NO_SHOW, "Mark no-show"),
    ]

    def get_queryset(self, request):
        # A salon manager in the admin sees their own salon's bookings only.
        return booking_list(user=request.user)

    def has_add_permission(self, request):
        return False  # bookings are made through the API, where every rule is checked

    def has_delete_permission(self, request, obj=None):
        return False
