from django_filters import rest_framework as filters
from django_filters.utils import translate_validation

from apps.bookings.models import Booking, BookingStatus
from apps.bookings.sql import ListFilters
from apps.common.fields import DateTimeFilter, IdFilter


class BookingFilter(filters.FilterSet):
    """The list's filters: they validate the query and document it in the schema;
    the list page applies them in its statement (``list_filters``)."""

    status = filters.MultipleChoiceFilter(choices=BookingStatus.choices)
    staff = IdFilter(field_name="staff_id")
    start_from = DateTimeFilter(field_name="start", lookup_expr="gte")
    start_to = DateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["status", "staff", "start_from", "start_to"]


def list_filters(query) -> ListFilters:
    """The filters a list query asks for, validated (a 400 naming the field)."""
    if not any(name in query for name in BookingFilter.base_filters):
        return ListFilters()  # building the filter form is a tenth of a plain list request
    filterset = BookingFilter(query, queryset=Booking.objects.none())
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    data = filterset.form.cleaned_data
    return ListFilters(
        statuses=tuple(data.get("status") or ()),
        staff_id=data.get("staff"),
        start_from=data.get("start_from"),
        start_to=data.get("start_to"),
    )
