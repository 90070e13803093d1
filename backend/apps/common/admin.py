"""What every admin a salon manager can reach shares.

A manager sees, changes and chooses only their own salon's rows; another
salon's row does not exist for them (404, as in the API). Superusers see all.
Times are shown in the salon's time zone, with the zone named; phone numbers are
isolated from the text direction (Arabic pages are right to left).
"""

from datetime import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


def managed_salon_id(user) -> int | None:
    """The salon a manager runs in the admin; None for anyone else (superusers included)."""
    return getattr(user, "managed_salon_id", None)


def salon_people(salon_id: int | None):
    """The staff members and managers of a salon, for choice lists."""
    return get_user_model().objects.salon_people(salon_id)


def phone_html(phone: str | None):
    """A phone number that keeps its left-to-right order on a right-to-left page."""
    return format_html('<bdi dir="ltr">{}</bdi>', phone) if phone else "—"


def person_html(user) -> str:
    """A person's name and phone, for list columns."""
    if user is None:
        return "—"
    return format_html("{} {}", user.name or _("(no name)"), phone_html(user.phone))


def zone_words(zone: str, language: str | None = None) -> str:
    """A time zone as people say it, in the page's language: "Riyadh time",
    "توقيت الرياض" (the city from CLDR, through Babel), never "Asia/Riyadh"."""
    from babel.dates import get_timezone_location

    language = language or translation.get_language() or "en"
    try:
        city = get_timezone_location(zone, locale=language, return_city=True)
    except LookupError:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
    with translation.override(language):
        return _("%(city)s time") % {"city": city}


def local_time(moment: datetime | None, tz, *, with_zone: bool = False):
    """``2026-03-01 10:00`` in ``tz`` (the salon's zone, 24-hour), optionally followed
    by the zone in words; the date and time kept left to right on a right-to-left
    page (else "10:00 2026-03-01")."""
    if not moment:
        return "—"
    text = timezone.localtime(moment, tz).strftime("%Y-%m-%d %H:%M")
    if with_zone:
        return format_html('<bdi dir="ltr">{}</bdi> ({})', text, zone_words(tz.key))
    return format_html('<bdi dir="ltr">{}</bdi>', text)


def boolean_html(value: bool | None):
    """Django's yes / no icon, with its alternative text in the reader's language
    (Django writes "True" / "False")."""
    from django.templatetags.static import static

    icon = {True: "yes", False: "no", None: "unknown"}[value]
    words = {True: _("Yes"), False: _("No"), None: _("Unknown")}[value]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), words)


class ReadOnlyAdminMixin:
    """An audit record: opened and read (GET), never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class StrictLookupsAdmin(admin.ModelAdmin):
    """List pages filter only by their own filters. Django also accepts any lookup
    on the model's own fields from the query string (``?id__in=...``), which a
    value the database cannot hold turns into a 500: here it is a 400."""

    def lookup_allowed(self, lookup, value, request=None):
        filters = self.get_list_filter(request)
        paths = [f if isinstance(f, str) else f[0] for f in filters if not callable(f)]
        if self.date_hierarchy:
            paths.append(self.date_hierarchy)
        # Our own filters (SimpleListFilter) read one parameter each and check its value themselves.
        parameters = {getattr(f, "parameter_name", None) for f in filters if callable(f)}
        if lookup not in parameters and not any(lookup == p or lookup.startswith(f"{p}__") for p in paths):
            return False
        # A number no database column holds (an id beyond 64 bits) is a 400, not the driver's overflow.
        if any(
            len(part.strip().lstrip("-")) > 18 and part.strip().lstrip("-").isdigit() for part in str(value).split(",")
        ):
            return False
        return super().lookup_allowed(lookup, value, request)


class SalonScopedAdmin(StrictLookupsAdmin):
    """Rows, choices and objects of the manager's salon only.

    ``salon_path``: the lookup from the model to its salon's id.
    ``people_fields``: foreign keys and many-to-many fields whose choices are the
    salon's staff members and managers (never customers, never other salons').
    """

    salon_path = "salon_id"
    people_fields: tuple[str, ...] = ()

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        salon_id = managed_salon_id(request.user)
        return rows.filter(**{self.salon_path: salon_id}) if salon_id else rows.none()

    def get_object(self, request, object_id, from_field=None):
        found = super().get_object(request, object_id, from_field)
        if found is None:
            # Missing or another salon's: the same 404 (Django would redirect with
            # "doesn't exist", telling apart what a manager may not know).
            raise Http404(_("Not found."))
        return found

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            salon_id = managed_salon_id(request.user)
            if db_field.name == "salon":
                kwargs["queryset"] = db_field.remote_field.model.objects.filter(pk=salon_id)
            elif db_field.name in self.people_fields:
                kwargs["queryset"] = salon_people(salon_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.name in self.people_fields:
            kwargs["queryset"] = salon_people(managed_salon_id(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        # A manager has one salon: a salon filter would only offer theirs.
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [f for f in filters if f not in ("salon", "staff__salon", "booking__salon")]
