from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashField

from apps.accounts.models import OneTimeCode, User


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(label="Password")

    class Meta:
        model = User
        fields = [
            "phone",
            "password",
            "name",
            "preferred_language",
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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["id"]
    list_display = ["id", "phone", "name", "role", "salon", "preferred_language", "is_active"]
    list_filter = ["role", "salon", "preferred_language", "is_active", "is_staff"]
    search_fields = ["phone", "name"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        ("Profile", {"fields": ["name", "preferred_language", "role", "salon"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["phone", "name", "role", "salon", "preferred_language"]})]
    filter_horizontal = ["groups", "user_permissions"]


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin):
    # Codes are audit data only: no one edits them and the hash is never shown.
    list_display = ["phone", "created_at", "expires_at", "failed_attempts", "used_at"]
    fields = ["phone", "created_at", "expires_at", "failed_attempts", "used_at"]
    readonly_fields = fields
    search_fields = ["phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
