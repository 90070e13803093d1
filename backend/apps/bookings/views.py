from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings import selectors
from apps.bookings.answer import booking_answer
from apps.bookings.filters import BookingFilter, list_filters
from apps.bookings.models import Booking
from apps.bookings.selectors import availability_for_day
from apps.bookings.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    BookingCreateSerializer,
    BookingSerializer,
    BookingUpdateSerializer,
)
from apps.bookings.services import BookingChanges, booking_create, booking_update
from apps.common.pagination import StartOrderCursorPagination


@extend_schema_view(
    create=extend_schema(request=BookingCreateSerializer, responses={201: BookingSerializer}),
    partial_update=extend_schema(request=BookingUpdateSerializer, responses={200: BookingSerializer}),
)
class BookingViewSet(viewsets.ModelViewSet):
    """Bookings, scoped to the user: a booking you may not see is a 404.

    Bookings are never deleted through the API (DELETE and PUT are 405): they are
    cancelled with ``PATCH {"status": "cancelled"}`` and their messages stay on record.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_class = BookingFilter
    pagination_class = StartOrderCursorPagination

    def initial(self, request, *args, **kwargs):
        # DELETE/PUT are 405 for everyone, signed in or not: answer before authentication.
        if request.method.lower() not in self.http_method_names:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return Booking.objects.none()
        return selectors.booking_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        # A page of plain rows rendered by the one answer function: the same body as
        # BookingSerializer's (a test compares them) without a model instance per
        # booking, salon, service and person.
        filters = list_filters(request.query_params)

        def read(position, backwards, limit):
            return selectors.booking_page(
                user=request.user, filters=filters, position=position, backwards=backwards, limit=limit
            )

        page = self.paginator.paginate_rows(request, read)
        return self.paginator.get_paginated_response([booking_answer(row) for row in page])

    def get_serializer_class(self):
        if self.action == "create":
            return BookingCreateSerializer
        if self.action == "partial_update":
            return BookingUpdateSerializer
        return BookingSerializer

    def perform_create(self, serializer):
        # booking_create records booking_created for customer and staff
        # (notifications.services.notify_booking_lifecycle) in its transaction.
        data = serializer.validated_data
        serializer.instance = booking_create(
            actor=self.request.user,
            service_id=data["service"],
            staff_id=data["staff"],
            start=data["start"],
            note=data.get("note", ""),
            customer_id=data.get("customer"),
        )

    def perform_update(self, serializer):
        # booking_update compares the previous status and calls
        # notifications.services.notify_on_status_change in its transaction.
        serializer.instance = booking_update(
            actor=self.request.user,
            booking_id=serializer.instance.pk,
            changes=BookingChanges(**serializer.validated_data),
        )


class AvailabilityView(APIView):
    """Public: free start times for a service on a day, per staff member."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[AvailabilityQuerySerializer], responses={200: AvailabilitySerializer})
    def get(self, request):
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        day = availability_for_day(
            salon_id=params["salon"],
            service_id=params["service"],
            local_date=params["date"],
            staff_id=params.get("staff"),
        )
        # Built directly (AvailabilitySerializer documents it): a day can hold a
        # thousand start times, and a serializer field per time is most of the cost.
        body = {
            "salon": day.salon_id,
            "service": day.service_id,
            "date": params["date"].isoformat(),
            "time_zone": day.time_zone,
            "duration_minutes": day.duration_minutes,
            "step_minutes": settings.AVAILABILITY_STEP_MINUTES,
            "staff": [
                {"id": item.staff.pk, "name": item.staff.name, "slots": [start.text for start in item.starts]}
                for item in day.staff
            ],
        }
        return Response(body)
