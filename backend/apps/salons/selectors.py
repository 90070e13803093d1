from django.db.models import Prefetch, QuerySet

from apps.accounts.models import Role, User
from apps.salons.models import Salon, Service


def salon_list() -> QuerySet[Salon]:
    return Salon.objects.all()


def service_list(*, salon_id: int | None = None) -> QuerySet[Service]:
    services = Service.objects.filter(is_active=True).select_related("salon")
    if salon_id is not None:
        services = services.filter(salon_id=salon_id)
    return services


def staff_list(*, salon_id: int | None = None, service_id: int | None = None) -> QuerySet[User]:
    """Bookable people: active staff and managers who perform at least one active service."""
    staff = User.objects.filter(is_active=True, role__in=[Role.STAFF, Role.MANAGER], services_performed__is_active=True)
    if salon_id is not None:
        staff = staff.filter(salon_id=salon_id)
    if service_id is not None:
        staff = staff.filter(services_performed__id=service_id)
    return (
        staff.distinct()
        .order_by("name", "id")
        .prefetch_related(Prefetch("services_performed", queryset=Service.objects.filter(is_active=True)))
    )
