from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.bookings.schedule import day_window
from apps.common.admin import SalonScopedAdmin, boolean_html, zone_words
from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff, WorkingHours


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ["name", "name_ar", "duration_minutes", "buffer_minutes", "price", "is_active"]


@admin.register(Salon)
class SalonAdmin(SalonScopedAdmin):
    salon_path = "id"
    list_display = ["name", "name_ar", "address", "zone_display"]
    search_fields = ["name", "name_ar"]
    inlines = [ServiceInline]

    @admin.display(description=_("time zone"), ordering="time_zone")
    def zone_display(self, salon):
        return zone_words(salon.time_zone)


@admin.register(Service)
class ServiceAdmin(SalonScopedAdmin):
    people_fields = ("staff_members",)
    list_display = ["name", "name_ar", "salon", "duration_minutes", "buffer_minutes", "price", "active_display"]
    list_filter = ["is_active", "salon"]
    search_fields = ["name", "name_ar"]
    list_select_related = ["salon"]
    filter_horizontal = ["staff_members"]

    @admin.display(description=_("is active"), ordering="is_active")
    def active_display(self, service):
        return boolean_html(service.is_active)


@admin.register(WorkingHours)
class WorkingHoursAdmin(SalonScopedAdmin):
    salon_path = "staff__salon_id"
    people_fields = ("staff",)
    list_display = ["staff", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", "staff__salon"]
    list_select_related = ["staff"]


def report_affected(modeladmin, request, affected) -> None:
    """After a closure or time off is saved: the bookings it caught, in salon time."""
    if not affected:
        modeladmin.message_user(request, gettext("No booking is affected."), messages.INFO)
        return
    listed = ", ".join(
        f"#{item.booking.pk} {timezone.localtime(item.booking.start, item.booking.salon.tz):%Y-%m-%d %H:%M} "
        f"{item.booking.customer.name or item.booking.customer.phone} ({item.booking.service.name})"
        for item in affected
    )
    modeladmin.message_user(
        request,
        gettext(
            "Affected bookings (%(count)s): %(bookings)s. Each customer is offered other times or to cancel; "
            "bookings nobody answered for are cancelled two hours before their start."
        )
        % {"count": len(affected), "bookings": listed},
        messages.WARNING,
    )


def _offer_freed_period(*, salon, staff_ids, start, end) -> None:
    from apps.waitlist.offers import waitlist_offer_freed_period

    waitlist_offer_freed_period(salon=salon, staff_ids=list(staff_ids), start=start, end=end, now=timezone.now())


@admin.register(SalonClosure)
class SalonClosureAdmin(SalonScopedAdmin):
    """Saving a closure handles the bookings it catches (apps/disruptions) and lists
    them; removing one offers the freed time to the waiting list."""

    list_display = ["start_date", "end_date", "reason", "salon"]
    list_filter = ["salon"]
    list_select_related = ["salon"]

    def save_model(self, request, obj, form, change):
        from apps.disruptions.services import closure_disrupt

        super().save_model(request, obj, form, change)
        report_affected(self, request, closure_disrupt(closure=obj))

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for closure in list(queryset.select_related("salon")):
            closure.delete()
            first, _ = day_window(closure.start_date, closure.salon.tz)
            _, last = day_window(closure.end_date, closure.salon.tz)
            staff_ids = closure.salon.members.values_list("pk", flat=True)
            _offer_freed_period(salon=closure.salon, staff_ids=staff_ids, start=first, end=last)


@admin.register(StaffTimeOff)
class StaffTimeOffAdmin(SalonScopedAdmin):
    """Saving time off handles the bookings it catches (apps/disruptions) and lists
    them; removing it offers the freed time to the waiting list."""

    salon_path = "staff__salon_id"
    people_fields = ("staff",)
    list_display = ["staff", "start", "end", "reason"]
    list_filter = ["staff__salon"]
    list_select_related = ["staff"]

    def save_model(self, request, obj, form, change):
        from apps.disruptions.services import time_off_disrupt

        super().save_model(request, obj, form, change)
        report_affected(self, request, time_off_disrupt(time_off=obj))

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for time_off in list(queryset.select_related("staff__salon")):
            time_off.delete()
            _offer_freed_period(
                salon=time_off.staff.salon, staff_ids=[time_off.staff_id], start=time_off.start, end=time_off.end
            )
