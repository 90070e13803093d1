"""One JSON error shape for every API error: ``{"code", "message", "fields"}``."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.common.dependencies import log_unavailable, retry_after_header, unavailable_body, unavailable_dependency
from apps.common.error_codes import CommonErrorCode as Code
from apps.common.errors import AppError, is_api_request
from apps.common.parsers import RequestTooLarge

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.NotAuthenticated: Code.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: Code.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: Code.PERMISSION_DENIED,
    exceptions.NotFound: Code.NOT_FOUND,
    exceptions.MethodNotAllowed: Code.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: Code.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: Code.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: Code.THROTTLED,
    exceptions.ParseError: Code.PARSE_ERROR,
    RequestTooLarge: Code.REQUEST_TOO_LARGE,
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _validation_fields(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _validation_fields(value) if isinstance(value, dict) else value for key, value in detail.items()}
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def _first_message(fields: dict) -> str:
    for key, value in fields.items():
        if isinstance(value, dict):
            return _first_message(value)
        if isinstance(value, list) and value:
            first = value[0]
            if isinstance(first, dict):
                return _first_message(first)
            return str(first) if key == "non_field_errors" else f"{key}: {first}"
    return "Invalid input."


EXPIRED_LOGIN_MESSAGE = (
    "Your token has expired. Get a new access token at /api/auth/token/refresh/ with your refresh token, "
    "or log in again."
)


def _token_expired(detail) -> bool:
    """simplejwt says "Token is expired" in its detail or in its per-token messages."""
    if isinstance(detail, dict):
        texts = [str(detail.get("detail", ""))] + [str(m.get("message", "")) for m in detail.get("messages", [])]
    else:
        texts = [str(detail)]
    return any("expired" in text.lower() for text in texts)


def api_exception_handler(exc, context):
    dependency = unavailable_dependency(exc)
    if dependency:
        request = context["request"]
        log_unavailable(request, dependency, exc)
        set_rollback()
        return Response(unavailable_body(dependency), status=503, headers=retry_after_header())
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if isinstance(exc, AppError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _validation_fields(exc.detail)
        body = error_body(Code.INVALID, _first_message(fields), fields)
    elif isinstance(exc, exceptions.AuthenticationFailed) and _token_expired(exc.detail):
        body = error_body(Code.TOKEN_EXPIRED, EXPIRED_LOGIN_MESSAGE)
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        detail = exc.detail
        if isinstance(detail, dict):
            # simplejwt's InvalidToken carries {"detail", "code", "messages"}.
            code = str(detail.get("code") or code or "error")
            message = str(detail.get("detail") or "Request failed.")
        else:
            code = code or getattr(detail, "code", None) or "error"
            message = str(detail)
        body = error_body(code, message)
    return Response(body, status=exc.status_code, headers=headers)


# Exempt from CSRF: it is also the view of every unknown /api/ path, where a POST
# with a browser's session cookie must get this 404, not Django's HTML CSRF page.
@csrf_exempt
def json_not_found(request, exception=None):
    return JsonResponse(error_body(Code.NOT_FOUND, "Not found."), status=status.HTTP_404_NOT_FOUND)


def json_server_error(request):
    return JsonResponse(
        error_body(Code.SERVER_ERROR, "Something went wrong on our side."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def json_bad_request(request, exception=None):
    return JsonResponse(error_body(Code.BAD_REQUEST, "Bad request."), status=status.HTTP_400_BAD_REQUEST)


def json_permission_denied(request, exception=None):
    return JsonResponse(error_body(Code.PERMISSION_DENIED, "Permission denied."), status=status.HTTP_403_FORBIDDEN)


# Django-level refusals (handler400/403/404/500): the API's JSON under /api/, the
# ordinary HTML pages elsewhere (the admin is a website for people).
def bad_request(request, exception=None):
    return json_bad_request(request) if is_api_request(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api_request(request):
        return json_permission_denied(request)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    return json_not_found(request) if is_api_request(request) else defaults.page_not_found(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API's JSON under /api/ (API views authenticate by bearer
    token and are exempt; this is the net for any other view there), Django's page elsewhere."""
    if is_api_request(request):
        body = error_body(Code.CSRF_FAILED, "CSRF verification failed. Send API requests with a bearer token.")
        return JsonResponse(body, status=status.HTTP_403_FORBIDDEN)
    return csrf.csrf_failure(request, reason)


def server_error(request):
    return json_server_error(request) if is_api_request(request) else defaults.server_error(request)
