from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_patterns = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.salons.urls")),
    path("", include("apps.bookings.urls")),
    path("", include("apps.notifications.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]

handler400 = "apps.common.exceptions.json_bad_request"
handler403 = "apps.common.exceptions.json_permission_denied"
handler404 = "apps.common.exceptions.json_not_found"
handler500 = "apps.common.exceptions.json_server_error"
