from django_filters import rest_framework as filters
from rest_framework import viewsets
from rest_framework.permissions import AllowAny

from apps.common.fields import IdFilter
from apps.salons import selectors
from apps.salons.serializers import SalonSerializer, ServiceSerializer, StaffSerializer


class ServiceFilter(filters.FilterSet):
    salon = IdFilter(field_name="salon_id")


class StaffFilter(filters.FilterSet):
    salon = IdFilter(field_name="salon_id")
    service = IdFilter(method="filter_service")

    def filter_service(self, queryset, name, value):
        return queryset.filter(services_performed__id=value).distinct()


class SalonViewSet(viewsets.ReadOnlyModelViewSet):
    """Public catalog: salons."""

    serializer_class = SalonSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        return selectors.salon_list()


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """Public catalog: active services, filter with ``?salon=``."""

    serializer_class = ServiceSerializer
    permission_classes = [AllowAny]
    filterset_class = ServiceFilter

    def get_queryset(self):
        return selectors.service_list()


class StaffViewSet(viewsets.ReadOnlyModelViewSet):
    """Public catalog: bookable staff, filter with ``?salon=&service=``. No phone numbers."""

    serializer_class = StaffSerializer
    permission_classes = [AllowAny]
    filterset_class = StaffFilter

    def get_queryset(self):
        return selectors.staff_list()
