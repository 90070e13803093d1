from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OneTimeCode, Role, User
from apps.common.admin import SalonScopedAdmin, StrictLookupsAdmin, boolean_html, managed_salon_id, phone_html


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(label=_("Password"))

    class Meta:
        model = User
        fields = [
            "phone",
            "password",
            "name",
            "preferred_language",
            "preferred_channel",
            "role",
            "salon",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        ]


class UserCreationForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["phone", "name", "role", "salon", "preferred_language"]

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()  # staff log in by phone code; a superuser sets a password
        if commit:
            user.save()
        return user


# What a manager may see and change about the people of their salon: never a
# role, a salon, admin access, the superuser flag, groups, permissions or a password.
MANAGER_FIELDS = ["phone", "name", "preferred_language", "preferred_channel", "is_active"]


class ManagerUserForm(forms.ModelForm):
    class Meta:
        model = User
        fields = MANAGER_FIELDS


@admin.register(User)
class UserAdmin(SalonScopedAdmin, DjangoUserAdmin):
    """Superusers: everyone. Managers: their salon's staff members and managers
    (customers are not listed), with the fields above; a person a manager adds is
    a staff member of their salon."""

    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["id"]
    list_display = ["name", "phone_display", "role", "salon", "preferred_language", "active_display"]
    list_filter = ["role", "salon", "preferred_language", "is_active", "is_staff"]
    search_fields = ["phone", "name"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Profile"), {"fields": ["name", "preferred_language", "preferred_channel", "role", "salon"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["phone", "name", "role", "salon", "preferred_language"]})]
    filter_horizontal = ["groups", "user_permissions"]

    @admin.display(description=_("phone"), ordering="phone")
    def phone_display(self, user):
        return phone_html(user.phone)

    @admin.display(description=_("active"), ordering="is_active")
    def active_display(self, user):
        return boolean_html(user.is_active)

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        if obj is None:
            return [(None, {"fields": ["phone", "name", "preferred_language"]})]
        if obj.pk == request.user.pk:  # their own "active" is shown, not changed (in words, not Django's "True")
            return [(None, {"fields": [f if f != "is_active" else "active_display" for f in MANAGER_FIELDS]})]
        return [(None, {"fields": MANAGER_FIELDS})]

    def get_form(self, request, obj=None, **kwargs):
        if not request.user.is_superuser and obj is not None:
            kwargs["form"] = ManagerUserForm
        return super().get_form(request, obj, **kwargs)

    def has_change_permission(self, request, obj=None):
        # A manager changes their staff members and themselves, not a fellow manager.
        if obj is not None and not request.user.is_superuser and obj.role == Role.MANAGER:
            return obj.pk == request.user.pk and super().has_change_permission(request, obj)
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # Only a superuser sets someone else's password (a manager uses "Change password" for their own).
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_readonly_fields(self, request, obj=None):
        if not request.user.is_superuser and obj is not None and obj.pk == request.user.pk:
            return ["active_display"]  # a manager does not lock themselves out
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and not change:
            obj.role, obj.salon_id, obj.is_staff = Role.STAFF, managed_salon_id(request.user), False
        super().save_model(request, obj, form, change)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(StrictLookupsAdmin):
    # Codes are audit data only: no one edits them and the hash is never shown.
    list_display = ["phone", "created_at", "expires_at", "failed_attempts", "used_at"]
    fields = ["phone", "created_at", "expires_at", "failed_attempts", "used_at"]
    readonly_fields = fields
    search_fields = ["phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
