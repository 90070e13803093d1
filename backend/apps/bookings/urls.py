from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.bookings.views import AvailabilityView, BookingViewSet

router = DefaultRouter(trailing_slash=True)
router.register("bookings", BookingViewSet, basename="booking")

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    *router.urls,
]
