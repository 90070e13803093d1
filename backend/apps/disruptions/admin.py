from datetime import datetime

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from apps.common.admin import ReadOnlyAdminMixin, SalonScopedAdmin, local_time, person_html
from apps.disruptions.models import BookingDisruption


@admin.register(BookingDisruption)
class BookingDisruptionAdmin(ReadOnlyAdminMixin, SalonScopedAdmin):
    """Bookings a closure or time off caught: what the customer was offered, when the
    salon cancels if nobody answers, and what became of them. Read-only: customers
    answer from their message; the salon changes the booking itself."""

    list_display = ["booking_start", "customer_display", "staff_display", "cause", "reason", "outcome", "cancel_local"]
    list_filter = ["outcome", "cause", "salon"]
    search_fields = ["booking__customer__phone", "booking__customer__name", "=booking__id"]
    list_select_related = ["salon", "booking__customer", "booking__staff"]
    ordering = ["-created_at", "-id"]
    fields = [
        "booking",
        "customer_display",
        "staff_display",
        "booking_start",
        "cause",
        "reason",
        "alternatives_local",
        "cancel_local",
        "outcome",
        "created_local",
        "resolved_local",
    ]
    readonly_fields = fields

    @admin.display(description=_("start (salon time)"), ordering="booking__start")
    def booking_start(self, disruption):
        return local_time(disruption.booking.start, disruption.salon.tz)

    @admin.display(description=_("customer"))
    def customer_display(self, disruption):
        return person_html(disruption.booking.customer)

    @admin.display(description=_("staff member"))
    def staff_display(self, disruption):
        return disruption.booking.staff.name or "—"

    @admin.display(description=_("cancelled if unanswered at"), ordering="cancel_at")
    def cancel_local(self, disruption):
        return local_time(disruption.cancel_at, disruption.salon.tz)

    @admin.display(description=_("created (salon time)"), ordering="created_at")
    def created_local(self, disruption):
        return local_time(disruption.created_at, disruption.salon.tz)

    @admin.display(description=_("resolved at"))
    def resolved_local(self, disruption):
        return local_time(disruption.resolved_at, disruption.salon.tz)

    @admin.display(description=_("alternatives offered"))
    def alternatives_local(self, disruption):
        tz = disruption.salon.tz
        rows = [
            (local_time(datetime.fromisoformat(item["start"]), tz), item.get("staff_name", ""))
            for item in disruption.alternatives
        ]
        return format_html_join("", "<div>{} ({})</div>", rows) if rows else "—"
