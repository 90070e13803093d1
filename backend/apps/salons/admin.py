from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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


@admin.register(SalonClosure)
class SalonClosureAdmin(SalonScopedAdmin):
    list_display = ["start_date", "end_date", "reason", "salon"]
    list_filter = ["salon"]
    list_select_related = ["salon"]


@admin.register(StaffTimeOff)
class StaffTimeOffAdmin(SalonScopedAdmin):
    salon_path = "staff__salon_id"
    people_fields = ("staff",)
    list_display = ["staff", "start", "end", "reason"]
    list_filter = ["staff__salon"]
    list_select_related = ["staff"]
