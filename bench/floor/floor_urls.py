from floorapp.views import ItemViewSet
from rest_framework.routers import SimpleRouter

router = SimpleRouter()
router.register("items", ItemViewSet)
urlpatterns = router.urls
