"""Request plumbing that keeps every /api/ answer in the API's JSON shape."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from apps.common.dependencies import log_unavailable, unavailable_dependency, unavailable_response
from apps.common.error_codes import CommonErrorCode
from apps.common.errors import is_api_request
from apps.common.exceptions import (
    bad_request,
    error_body,
    json_bad_request,
    json_not_found,
    json_permission_denied,
    json_server_error,
)

logger = logging.getLogger("salon.api")


class NulByteMiddleware:
    """A NUL byte in the path or the query string is a 400 before any view runs:
    no text we store can hold one, and PostgreSQL refuses it in a query (a 500 in
    an admin filter or search, in a list filter of the API)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query.lower() or "\x00" in query:
            logger.warning("NUL byte refused in %s %s", request.method, request.path)
            if is_api_request(request):
                body = error_body(CommonErrorCode.BAD_REQUEST, "A NUL byte (%00) is not allowed in a request.")
                return JsonResponse(body, status=400)
            return bad_request(request)
        return self.get_response(request)


class ApiPathMiddleware:
    """Under /api/, a path without its trailing slash is served as the path with it
    (a redirect would turn a client's POST into a GET). Any exception that escapes a
    view becomes a JSON answer there, in DEBUG too: a dependency that is down is a
    503 with Retry-After (a short HTML page outside /api/), anything else a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not _serves(path, urlconf) and _serves(f"{path}/", urlconf):
                # Only the routing path changes: request.path stays what the client
                # called (webhook signatures are computed over it).
                request.path_info = f"{path}/"
        return self.get_response(request)

    def process_exception(self, request, exception):
        dependency = unavailable_dependency(exception)
        if dependency:
            log_unavailable(request, dependency, exception)
            return unavailable_response(request, dependency)
        if not is_api_request(request):
            return None
        # What Django itself would answer with 400/403/404, as JSON (its DEBUG pages are HTML).
        for kinds, answer in (
            ((BadRequest, SuspiciousOperation, MultiPartParserError), json_bad_request),
            ((PermissionDenied,), json_permission_denied),
            ((Http404,), json_not_found),
        ):
            if isinstance(exception, kinds):
                logger.warning("%s %s refused: %s", request.method, request.path, exception)
                return answer(request)
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return json_server_error(request)


def _serves(path: str, urlconf) -> bool:
    """Whether ``path`` reaches a real view (not the /api/ catch-all 404)."""
    try:
        return resolve(path, urlconf).func is not json_not_found
    except Resolver404:
        return False


class AdminLocaleMiddleware:
    """In the admin, a manager works in their salon's time zone (date filters such as
    "Today" follow the salon's days) and in their language: the one they switched
    to (the language cookie set by /i18n/setlang/), else their preferred language.
    Before logging in (the login page, its lockout message) nobody's preference is
    known yet: the browser's Accept-Language decides, as Django's LocaleMiddleware would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        user = request.user
        languages = {code for code, _ in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in languages:
            if user.is_authenticated:
                language = getattr(user, "preferred_language", None)
            else:
                language = translation.get_language_from_request(request)
        if language not in languages:
            language = settings.LANGUAGE_CODE
        salon = getattr(user, "salon", None) if user.is_authenticated and not user.is_superuser else None
        zone = salon.tz if salon else ZoneInfo(settings.SALON_DEFAULT_TIME_ZONE)
        request.salon_time_zone = zone.key
        with translation.override(language), timezone.override(zone):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie", "Accept-Language"])
        return response
