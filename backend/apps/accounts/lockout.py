"""Admin password guessing: lockouts per account and per client address (django-axes).

Axes counts failed admin logins in the database (every gunicorn worker sees the
same counts) and refuses further tries, the right password included, once
ADMIN_LOGIN_FAILURE_LIMIT failures were made for one account, or from one address,
within ADMIN_LOGIN_LOCKOUT_MINUTES. These are the hooks that make it count what we mean:

- the account is the phone in E.164, whatever form was typed (0500..., +966 50...),
  so the same person is one account (``typed_phone``);
- the address is the project's one client address (apps/common/addresses.py), so
  a forged X-Forwarded-For does not start a new count;
- the refusal is the admin's login page with a message in the admin's language
  (``lockout_response``).
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.common.errors import AppError
from apps.common.phones import normalize_mobile

# AccessAttempt.username holds at most this many characters.
USERNAME_MAX_LENGTH = 255


def typed_phone(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the account a login attempt is for. A phone in any
    form counts as its E.164 number; anything else counts as what was typed (it
    still counts against the address)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    typed = credentials.get(field) if credentials is not None else request.POST.get(field)
    if typed is None:
        return None
    try:
        return normalize_mobile(typed)
    except AppError:
        # PostgreSQL refuses NUL in text: it must not turn a failed login into a 500.
        return str(typed).replace("\x00", "\\x00")[:USERNAME_MAX_LENGTH]


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    """In the active language (the admin's: apps/common/middleware.AdminLocaleMiddleware)."""
    minutes = lockout_minutes()
    return ngettext(
        "Too many failed logins for this phone number or from this address. Try again in %(minutes)d minute.",
        "Too many failed logins for this phone number or from this address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the admin's login page, its form empty, with the
    lockout message, as a 429. (Only the admin logs in with a password: the API's
    logins are by one-time code and never reach this.)"""
    form_class = admin.site.login_form or AdminAuthenticationForm
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "app_path": request.get_full_path(),
        "form": form_class(request),
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "lockout_message": lockout_message(),
    }
    response = TemplateResponse(request, "admin/locked_out.html", context, status=429)
    return response.render()  # returned by a middleware: nothing after it renders it
