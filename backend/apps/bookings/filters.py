from django_filters import rest_framework as filters

from apps.bookings.models import Booking, BookingStatus
from apps.common.fields import DateTimeFilter, IdFilter


class BookingFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=BookingStatus.choices)
    staff = IdFilter(field_name="staff_id")
    start_from = DateTimeFilter(field_name="start", lookup_expr="gte")
    start_to = DateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["status", "staff", "start_from", "start_to"]
