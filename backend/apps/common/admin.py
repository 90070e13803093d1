"""What every admin a salon manager can reach shares: rows scoped to their salon."""

from django.contrib import admin

from apps.accounts.models import Role


def managed_salon_id(user) -> int | None:
    """The salon a manager runs in the admin; None for superusers (everything) and for
    anyone else (nothing)."""
    if user.is_superuser or user.role != Role.MANAGER:
        return None
    return user.salon_id


class SalonScopedAdmin(admin.ModelAdmin):
    """A manager sees, changes and chooses only their salon's rows; superusers see all.

    ``salon_path`` is the lookup from the model to its salon's id.
    """

    salon_path = "salon_id"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        salon_id = managed_salon_id(request.user)
        return rows.filter(**{self.salon_path: salon_id}) if salon_id else rows.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "salon" and not request.user.is_superuser:
            from apps.salons.models import Salon

            kwargs["queryset"] = Salon.objects.filter(pk=managed_salon_id(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
