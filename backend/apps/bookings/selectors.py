from django.db.models import QuerySet

from apps.accounts.models import Role, User
from apps.bookings.models import Booking


def booking_list(*, user: User) -> QuerySet[Booking]:
    """The bookings ``user`` may see: their own (customer), assigned to them
    (staff), their salon's (manager), or all (superuser)."""
    bookings = Booking.objects.select_related("salon", "service", "customer", "staff")
    if user.is_superuser:
        return bookings
    if user.role == Role.MANAGER:
        return bookings.filter(salon_id=user.salon_id)
    if user.role == Role.STAFF:
        return bookings.filter(staff=user)
    return bookings.filter(customer=user)
