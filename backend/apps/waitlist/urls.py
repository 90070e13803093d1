from rest_framework.routers import DefaultRouter

from apps.waitlist.views import WaitlistEntryViewSet

router = DefaultRouter(trailing_slash=True)
router.register("waitlist", WaitlistEntryViewSet, basename="waitlist")

urlpatterns = router.urls
