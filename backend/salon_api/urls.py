from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common.exceptions import json_not_found
from apps.common.health import LivenessView, ReadinessView
from apps.common.metrics import metrics_view
from apps.disruptions.views import choice_page
from apps.notifications.views import optout_page
from apps.waitlist.views import offer_page

api_patterns = [
    # Tried in order: the most requested first (availability, bookings).
    path("", include("apps.bookings.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.salons.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.privacy.urls")),
    path("", include("apps.waitlist.urls")),
    path("", include("apps.disruptions.urls")),
    path("health/", LivenessView.as_view(), name="health"),
    path("health/ready/", ReadinessView.as_view(), name="health-ready"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Anything else under /api/ is the API's JSON 404, in DEBUG too.
    re_path(r"^.*$", json_not_found),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("metrics", metrics_view, name="metrics"),
    # The opt-out link at the end of every promotional SMS (PUBLIC_BASE_URL + /u/<token>).
    path("u/<str:token>", optout_page, name="marketing-opt-out"),
    # The links in a waiting list offer's SMS and a disrupted booking's SMS (apps/notifications/links.py).
    path("w/<str:token>", offer_page, name="waitlist-offer"),
    path("d/<str:token>", choice_page, name="disruption-choice"),
    # The admin's language switch (POST /i18n/setlang/).
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = _("Salon administration")
admin.site.site_title = _("Salon")
admin.site.index_title = _("Run your salon")
admin.site.site_url = None  # the API has no website of its own to link to

handler400 = "apps.common.exceptions.bad_request"
handler403 = "apps.common.exceptions.permission_denied"
handler404 = "apps.common.exceptions.page_not_found"
handler500 = "apps.common.exceptions.server_error"
