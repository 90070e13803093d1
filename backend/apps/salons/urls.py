from rest_framework.routers import DefaultRouter

from apps.salons.views import SalonViewSet, ServiceViewSet, StaffViewSet

router = DefaultRouter(trailing_slash=True)
router.register("salons", SalonViewSet, basename="salon")
router.register("services", ServiceViewSet, basename="service")
router.register("staff", StaffViewSet, basename="staff")

urlpatterns = router.urls
