from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from apps.common.admin import ReadOnlyAdminMixin, SalonScopedAdmin, local_time, person_html
from apps.common.errors import AppError
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.services import waitlist_entry_cancel


class WaitlistOfferInline(admin.TabularInline):
    """The times offered to the entry, in salon time."""

    model = WaitlistOffer
    extra = 0
    can_delete = False
    fields = ["start_local", "staff", "valid_from_local", "expires_local", "freed_booking"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("start (salon time)"))
    def start_local(self, offer):
        return local_time(offer.start, offer.entry.salon.tz)

    @admin.display(description=_("valid from"))
    def valid_from_local(self, offer):
        return local_time(offer.valid_from, offer.entry.salon.tz)

    @admin.display(description=_("expires at"))
    def expires_local(self, offer):
        return local_time(offer.expires_at, offer.entry.salon.tz)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdminMixin, SalonScopedAdmin):
    """Who waits for which day and times (salon time), what they were offered, and
    what came of it. Customers join from the app; a manager may take entries off."""

    list_display = ["date", "window", "customer_display", "service", "staff_display", "status", "joined_local"]
    list_filter = ["status", "date", "salon"]
    search_fields = ["customer__phone", "customer__name"]
    list_select_related = ["salon", "customer", "service", "staff"]
    ordering = ["date", "created_at", "id"]
    fields = [
        "salon",
        "customer_display",
        "service",
        "staff_display",
        "date",
        "window",
        "status",
        "booking",
        "joined_local",
    ]
    readonly_fields = fields
    inlines = [WaitlistOfferInline]
    actions = ["cancel_entries"]

    @admin.display(description=_("window (salon time)"))
    def window(self, entry):
        return f"{entry.window_start:%H:%M}-{entry.window_end:%H:%M}"

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_display(self, entry):
        return person_html(entry.customer)

    @admin.display(description=_("staff member"))
    def staff_display(self, entry):
        return entry.staff.name if entry.staff_id else _("Anyone")

    @admin.display(description=_("joined (salon time)"), ordering="created_at")
    def joined_local(self, entry):
        return local_time(entry.created_at, entry.salon.tz)

    def has_cancel_permission(self, request):
        return request.user.has_perm("waitlist.change_waitlistentry")

    @admin.action(description=_("Take off the waiting list"), permissions=["cancel"])
    def cancel_entries(self, request, queryset):
        done = 0
        for entry in queryset:
            try:
                waitlist_entry_cancel(actor=request.user, entry_id=entry.pk)
                done += 1
            except AppError as exc:
                self.message_user(request, f"#{entry.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("Taken off the waiting list: %(count)s.") % {"count": done})
