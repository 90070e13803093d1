from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common.exceptions import json_not_found
from apps.common.health import LivenessView, ReadinessView
from apps.common.metrics import metrics_view

api_patterns = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.salons.urls")),
    path("", include("apps.bookings.urls")),
    path("", include("apps.notifications.urls")),
    path("health/", LivenessView.as_view(), name="health"),
    path("health/ready/", ReadinessView.as_view(), name="health-ready"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Anything else under /api/ is the API's JSON 404, in DEBUG too.
    re_path(r"^.*$", json_not_found),
]

urlpatterns = [
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]

handler400 = "apps.common.exceptions.json_bad_request"
handler403 = "apps.common.exceptions.json_permission_denied"
handler404 = "apps.common.exceptions.json_not_found"
handler500 = "apps.common.exceptions.json_server_error"
