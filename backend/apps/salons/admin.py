from django.contrib import admin

from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff, WorkingHours


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ["name", "name_ar", "duration_minutes", "buffer_minutes", "price", "is_active"]


@admin.register(Salon)
class SalonAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "name_ar", "time_zone"]
    search_fields = ["name", "name_ar"]
    inlines = [ServiceInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "name_ar", "salon", "duration_minutes", "buffer_minutes", "price", "is_active"]
    list_filter = ["salon", "is_active"]
    search_fields = ["name", "name_ar"]
    filter_horizontal = ["staff_members"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["staff", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", "staff__salon"]


@admin.register(SalonClosure)
class SalonClosureAdmin(admin.ModelAdmin):
    list_display = ["salon", "start_date", "end_date", "reason"]
    list_filter = ["salon"]


@admin.register(StaffTimeOff)
class StaffTimeOffAdmin(admin.ModelAdmin):
    list_display = ["staff", "start", "end", "reason"]
    list_filter = ["staff__salon"]
