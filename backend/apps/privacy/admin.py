from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.common.admin import StrictLookupsAdmin, person_html
from apps.common.errors import AppError
from apps.privacy.models import DataRequest
from apps.privacy.services import data_request_complete, data_request_describe, data_request_record


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", _("Waiting")), ("overdue", _("Overdue")), ("answered", _("Answered"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open()
        if self.value() == "overdue":
            return queryset.overdue(timezone.now())
        if self.value() == "answered":
            return queryset.filter(completed_at__isnull=False)
        return queryset


class DataRequestChangeForm(forms.ModelForm):
    answered = forms.BooleanField(
        required=False, label=_("Answered"), help_text=_("Records you as the one who handled it, now.")
    )

    class Meta:
        model = DataRequest
        fields = ["resolution"]


class DataRequestAddForm(forms.ModelForm):
    """A request received another way (at the salon, by e-mail): record it once the
    person is verified (a login code to their phone, or in person)."""

    class Meta:
        model = DataRequest
        fields = ["user", "kind", "details", "received_at"]


@admin.register(DataRequest)
class DataRequestAdmin(StrictLookupsAdmin):
    """Superusers only: every request about personal data, what is overdue (30 days),
    and who answered it. No one deletes a request: the log is the law's."""

    list_display = ["id", "kind", "person", "received_at", "due_at", "overdue", "completed_at", "handled_by"]
    list_filter = [StateFilter, "kind"]
    list_select_related = ["user", "handled_by"]
    ordering = ["-received_at", "-id"]
    raw_id_fields = ["user"]
    actions = ["mark_answered"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_module_permission

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = DataRequestChangeForm if obj is not None else DataRequestAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "kind", "details", "received_at"]
        return ["person", "kind", "details", "received_at", "due_at", "completed_at", "handled_by", "resolution"] + (
            ["answered"] if obj.completed_at is None else []
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["person", "kind", "details", "received_at", "due_at", "completed_at", "handled_by"]

    @admin.display(description=_("person"))
    def person(self, request_row):
        return person_html(request_row.user)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, request_row):
        return request_row.is_overdue

    def save_model(self, request, obj, form, change):
        if not change:
            saved = data_request_record(user=obj.user, kind=obj.kind, details=obj.details, received_at=obj.received_at)
            obj.pk = saved.pk
            return
        if form.cleaned_data.get("answered") and obj.completed_at is None:
            data_request_complete(request_id=obj.pk, handled_by=request.user, resolution=obj.resolution)
        else:
            data_request_describe(request_id=obj.pk, resolution=obj.resolution)

    @admin.action(description=_("Mark the selected requests answered"))
    def mark_answered(self, request, queryset):
        answered = 0
        for request_id in queryset.open().values_list("pk", flat=True):
            try:
                data_request_complete(request_id=request_id, handled_by=request.user)
            except AppError:
                continue  # answered meanwhile
            answered += 1
        self.message_user(request, _("%(count)s request(s) marked answered.") % {"count": answered}, messages.SUCCESS)
