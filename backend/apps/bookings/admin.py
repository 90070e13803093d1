import functools
from datetime import datetime, time, timedelta

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.bookings import admin_desk
from apps.bookings.admin_desk import booking_words, reason_text, refusal_text
from apps.bookings.models import Booking, BookingStatus
from apps.bookings.services import booking_change_status
from apps.common.admin import SalonScopedAdmin, local_time, managed_salon_id, person_html
from apps.common.errors import AppError
from apps.notifications.models import Notification


class NotificationInline(admin.TabularInline):
    model = Notification
    fk_name = "booking"
    extra = 0
    can_delete = False
    fields = ["event", "recipient", "channel", "status", "reason_display", "sent_at"]
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def reason_display(self, notification):
        from apps.notifications.admin import notification_reason_html

        return notification_reason_html(notification.reason)

    def has_add_permission(self, request, obj=None):
        return False


class DayFilter(admin.SimpleListFilter):
    """Days in the salon's time (the admin runs in it): today, tomorrow, the next week."""

    title = _("day (salon time)")
    parameter_name = "day"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("tomorrow", _("Tomorrow")), ("week", _("Next 7 days")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        if self.value() and request.GET.get("status__exact") != BookingStatus.CANCELLED:
            # A day's bookings are the ones that hold a chair: cancelled ones only when asked for.
            queryset = queryset.exclude(status=BookingStatus.CANCELLED)
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
                refusal = refusal_text(exc.code, status=booking.status, target=status, fallback=exc.message)
                modeladmin.message_user(request, f"{booking_words(booking)}: {refusal}", messages.ERROR)
        if done:
            modeladmin.message_user(request, _("%(label)s: %(count)s booking(s).") % {"label": label, "count": done})

    action.__name__ = f"mark_{status}"
    action.short_description = label
    action.allowed_permissions = ("change",)
    return action


@admin.register(Booking)
class BookingAdmin(SalonScopedAdmin):
    """The day's bookings in salon time, and the front desk (``admin_desk``: the day
    by staff member; book, move, cancel with a reason). Every change goes through
    the booking services (so the rules hold and messages are sent); only the note
    is edited on the booking's page."""

    list_display = [
        "start_local",
        "customer_display",
        "service_display",
        "staff_display",
        "status_display",
        "desk_links",
    ]
    list_display_links = ["start_local"]
    list_filter = [DayFilter, "status", "salon"]
    search_fields = ["customer__phone", "customer__name", "staff__name"]
    list_select_related = ["salon", "service", "customer", "staff"]
    ordering = ["start", "id"]
    list_per_page = 50
    readonly_fields = [
        "salon_display",
        "service_display",
        "customer_display",
        "staff_display",
        "start_with_zone",
        "end_with_zone",
        "status_display",
        "customer_confirmed_local",
        "cancellation_reason_display",
        "reschedule_count",
        "created_local",
        "updated_local",
    ]
    fields = [*readonly_fields[:6], "note", *readonly_fields[6:]]
    inlines = [NotificationInline]
    actions = [
        _status_action(BookingStatus.CONFIRMED, _("Confirm")),
        _status_action(BookingStatus.CANCELLED, _("Cancel")),
        _status_action(BookingStatus.COMPLETED, _("Mark completed")),
        _status_action(BookingStatus.NO_SHOW, _("Mark no-show")),
    ]

    def get_urls(self):
        def view(function):
            wrapped = self.admin_site.admin_view(functools.partial(function, self))
            return functools.update_wrapper(wrapped, function)

        return [
            path("day/", view(admin_desk.day_view), name="bookings_booking_day"),
            path("desk/book/", view(admin_desk.book_view), name="bookings_booking_desk_book"),
            path("<path:object_id>/move/", view(admin_desk.move_view), name="bookings_booking_move"),
            path("<path:object_id>/cancel/", view(admin_desk.cancel_view), name="bookings_booking_cancel"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"day_url": reverse("admin:bookings_booking_day"), "may_book": self._may_change(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def _may_change(self, request) -> bool:
        return request.user.is_superuser or (
            managed_salon_id(request.user) is not None and request.user.has_perm("bookings.change_booking")
        )

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if not self._may_change(request):
            columns.remove("desk_links")
        return [*columns, "salon_display"] if request.user.is_superuser else columns

    @admin.display(description=_("start (salon time)"), ordering="start")
    def start_local(self, booking):
        return local_time(booking.start, booking.salon.tz)

    @admin.display(description=_("start"))
    def start_with_zone(self, booking):
        return local_time(booking.start, booking.salon.tz, with_zone=True)

    @admin.display(description=_("end"))
    def end_with_zone(self, booking):
        return local_time(booking.end, booking.salon.tz, with_zone=True)

    @admin.display(description=_("customer confirmed at"))
    def customer_confirmed_local(self, booking):
        return local_time(booking.customer_confirmed_at, booking.salon.tz, with_zone=True)

    @admin.display(description=_("created at"))
    def created_local(self, booking):
        return local_time(booking.created_at, booking.salon.tz, with_zone=True)

    @admin.display(description=_("updated at"))
    def updated_local(self, booking):
        return local_time(booking.updated_at, booking.salon.tz, with_zone=True)

    @admin.display(description=_("salon"), ordering="salon__name")
    def salon_display(self, booking):
        return booking.salon.display_name(get_language() or "en")

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, booking):
        """The status, and "coming" while the customer's "I'll be there" holds (never
        on a cancelled or finished booking)."""
        status = format_html(
            '<span class="booking-status status-{}">{}</span>', booking.status, booking.get_status_display()
        )
        if not self.attendance(booking):
            return status
        return format_html('{} <span class="booking-coming" title="{}">✓ {}</span>', status, _("coming"), _("coming"))

    @admin.display(description=_("cancellation reason"))
    def cancellation_reason_display(self, booking):
        return reason_text(booking.cancellation_reason) or "—"

    @admin.display(description=_("front desk"))
    def desk_links(self, booking):
        if not booking.is_active:
            return ""
        return format_html(
            '<a href="{}">{}</a><br><a href="{}">{}</a>',
            reverse("admin:bookings_booking_move", args=[booking.pk]),
            _("Move"),
            reverse("admin:bookings_booking_cancel", args=[booking.pk]),
            _("Cancel"),
        )

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
        # The customer's "I'll be there" counts while the booking holds: never on a cancelled one.
        return booking.customer_confirmed_at is not None and booking.is_active

    def has_add_permission(self, request):
        return False  # the front desk books through booking_create (desk/book/), not a model form

    def has_delete_permission(self, request, obj=None):
        return False
