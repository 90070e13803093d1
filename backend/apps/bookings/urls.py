from rest_framework.routers import DefaultRouter

from apps.bookings.views import BookingViewSet

router = DefaultRouter(trailing_slash=True)
router.register("bookings", BookingViewSet, basename="booking")

urlpatterns = router.urls
