"""A URLconf for tests: the real one, plus views that fail the way real bugs and outages do."""

from django.db import OperationalError
from django.urls import include, path


def broken(request):
    raise RuntimeError("a bug")


def plain_form(request):
    """A plain Django view (not DRF's, so not exempt from CSRF) under /api/."""
    from django.http import JsonResponse

    return JsonResponse({"ok": True})


def database_gone(request):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


urlpatterns = [
    path("api/broken/", broken),
    path("api/database-gone/", database_gone),
    path("api/plain-form/", plain_form),
    path("admin-database-gone/", database_gone),
    path("", include("salon_api.urls")),
]
