from datetime import datetime, time, timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.bookings.models import Booking, BookingStatus
from apps.bookings.services import booking_change_status
from apps.common.admin import SalonScopedAdmin, local_time, person_html
from apps.common.errors import AppError
from apps.notifications.models import Notification


class NotificationInline(admin.TabularInline):
    model = Notification
    fk_name = "booking"
    extra = 0
    can_delete = False
    fields = ["event", "recipient", "channel", "status", "reason", "sent_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DayFilter(admin.SimpleListFilter):
    """Days in the salon's time (the admin runs in it): today, tomorrow, the next week."""

    title = _("day (salon time)")
    parameter_name = "day"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("tomorrow", _("Tomorrow")), ("week", _("Next 7 days")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()  # the active zone: the manager's salon

        def midnight(day):
            return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())

        windows = {
            "today": (midnight(today), midnight(today + timedelta(days=1))),
            "tomorrow": (midnight(today + timedelta(days=1)), midnight(today + timedelta(days=2))),
            "week": (midnight(today), midnight(today + timedelta(days=7))),
        }
        if self.value() == "past":
            return queryset.filter(start__lt=timezone.now())
        if self.value() in windows:
            first, last = windows[self.value()]
            return queryset.filter(start__gte=first, start__lt=last)
        return queryset


def _status_action(status: str, label):
    def action(modeladmin, request, queryset):
        done = 0
        for booking in queryset:
            try:
                booking_change_status(actor=request.user, booking_id=booking.pk, status=status)
                done += 1
            except AppError as exc:
                modeladmin.message_user(request, f"#{booking.pk}: {exc.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, _("%(label)s: %(count)s booking(s).") % {"label": label, "count": done})

    action.__name__ = f"mark_{status}"
    action.short_description = label
    action.allowed_permissions = ("change",)
    return action


@admin.register(Booking)
class BookingAdmin(SalonScopedAdmin):
    """The day's bookings in salon time. Status changes go through the booking
    service (so messages are sent); only the note is edited here."""

    list_display = ["start_local", "customer_display", "staff_display", "service_display", "status", "attendance"]
    list_filter = [DayFilter, "status", "salon"]
    search_fields = ["customer__phone", "customer__name", "staff__name"]
    list_select_related = ["salon", "service", "customer", "staff"]
    ordering = ["start", "id"]
    list_per_page = 50
    readonly_fields = [
        "salon",
        "service",
        "customer_display",
        "staff",
        "start_with_zone",
        "end_with_zone",
        "status",
        "customer_confirmed_at",
        "cancellation_reason",
        "reschedule_count",
        "created_at",
        "updated_at",
    ]
    fields = [*readonly_fields[:6], "note", *readonly_fields[6:]]
    inlines = [NotificationInline]
    actions = [
        _status_action(BookingStatus.CONFIRMED, _("Confirm")),
        _status_action(BookingStatus.CANCELLED, _("Cancel")),
        _status_action(BookingStatus.COMPLETED, _("Mark completed")),
        _status_action(BookingStatus.NO_SHOW, _("Mark no-show")),
    ]

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        return [*columns, "salon"] if request.user.is_superuser else columns

    @admin.display(description=_("start (salon time)"), ordering="start")
    def start_local(self, booking):
        return local_time(booking.start, booking.salon.tz)

    @admin.display(description=_("start"))
    def start_with_zone(self, booking):
        return local_time(booking.start, booking.salon.tz, zone=booking.salon.time_zone)

    @admin.display(description=_("end"))
    def end_with_zone(self, booking):
        return local_time(booking.end, booking.salon.tz, zone=booking.salon.time_zone)

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_display(self, booking):
        return person_html(booking.customer)

    @admin.display(description=_("staff member"), ordering="staff__name")
    def staff_display(self, booking):
        return booking.staff.name or "—"

    @admin.display(description=_("service"), ordering="service__name")
    def service_display(self, booking):
        return booking.service.display_name(get_language() or "en")

    @admin.display(description=_("coming"), boolean=True)
    def attendance(self, booking):
        return booking.customer_confirmed_at is not None

    def has_add_permission(self, request):
        return False  # bookings are made through the API, where every rule is checked

    def has_delete_permission(self, request, obj=None):
        return False
