"""Personal data out of logs and error reports.

Logs: ``PersonalDataFilter`` (on the configured log handler, settings.LOGGING)
masks every phone number in a line and its traceback (``+9665******02``) and a
login code written after the word "code". The console provider's lines (logger
``salon.messages``) pass whole: printing the message is its whole point, in
development. Our own log calls never write a message text or a code; this is the
net under them.

Error reports (Sentry): ``sentry_options`` is the one configuration settings.py
uses. Local variables, request data and breadcrumb data named like personal data
or secrets (phone, text, body, message, code, token, ...) are replaced by the SDK's
scrubber; ``sentry_before_send`` then masks phone numbers, tokens and codes in
every remaining string, and the console provider's breadcrumbs are dropped.
Request bodies are never sent.

Texts and codes cannot be told from other words by their shape: the code that
holds one names it (``personal_data(text, code)``) inside a
``personal_data_scope``; while the scope runs, and on any exception that leaves
it, those values are replaced wherever they appear (a provider's error that
quotes the message, an exception's text, a log line).
"""

import functools
import logging
import re
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

# The console provider's logger (integrations/messaging/console.py).
CONSOLE_LOGGER = "salon.messages"
FILTERED = "[Filtered]"

# A phone number in free text: E.164 (spaces or dashes allowed), 00-international,
# digits-only international (966...), the Saudi national form (05...) and the
# national significant number (5...). Not inside a word: "SM0000..." ids stay.
_PHONE = re.compile(
    r"(?<![\w+*])"
    r"(?:\+\d(?:[ -]?\d){7,14}|00\d{9,15}|\d{11,15}|0\d{9}|5\d{8})"
    r"(?![\w*])"
)
# A JSON Web Token (access and refresh tokens), and a bearer header's value.
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
# A login code: six digits shortly after "code" (English) or "رمز" (Arabic).
_CODE = re.compile(r"(?i)((?:code|رمز)\D{0,40}?)(?<!\d)\d{6}(?!\d)")


# The values named personal data by the code running now (a set per scope), and
# the attribute that carries them on an exception leaving a scope.
_IN_FLIGHT: ContextVar[set[str] | None] = ContextVar("salon_personal_data", default=None)
_CARRIED = "_salon_personal_data"
REPLACED = "[personal data]"


def personal_data_scope(function):
    """Run ``function`` with a scope for ``personal_data``: what it names stays out
    of logs and error reports while it runs, and an exception leaving it carries the
    values, so that its report later (a Celery task's failure) is scrubbed too."""

    @functools.wraps(function)
    def scoped(*args, **kwargs):
        token = _IN_FLIGHT.set(set(_IN_FLIGHT.get() or ()))
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            with suppress(AttributeError, TypeError):
                setattr(exc, _CARRIED, frozenset(getattr(exc, _CARRIED, ())) | frozenset(_IN_FLIGHT.get() or ()))
            raise
        finally:
            _IN_FLIGHT.reset(token)

    return scoped


def personal_data(*values: str | None) -> None:
    """Name values (a message text, a login code) that no log line or error report
    may hold, for the rest of the current ``personal_data_scope``."""
    in_flight = _IN_FLIGHT.get()
    if in_flight is not None:
        in_flight.update(str(value) for value in values if value and len(str(value)) >= 4)


def _known(exc: BaseException | None = None) -> frozenset[str]:
    """The values named in the running scope and carried by ``exc`` and its causes."""
    known = set(_IN_FLIGHT.get() or ())
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        known |= getattr(exc, _CARRIED, frozenset())
        exc = exc.__cause__ or exc.__context__
    return frozenset(known)


def mask_phone(phone: str | None) -> str:
    """``+966512345602`` -> ``+9665******02``: the country and the network stay
    readable (support can tell a Saudi mobile), the person does not."""
    if not phone:
        return ""
    compact = re.sub(r"[ -]", "", str(phone))
    if compact.startswith("+"):
        keep = 5
    elif compact.startswith("00"):
        keep = 6
    elif len(compact) >= 11:
        keep = 4
    elif compact.startswith("0"):
        keep = 2
    else:
        keep = 1
    keep = min(keep, max(len(compact) - 4, 0))
    return compact[:keep] + "*" * (len(compact) - keep - 2) + compact[-2:]


def scrub_text(text: str, known: frozenset[str] = frozenset()) -> str:
    """``text`` with the ``known`` values (texts, codes) replaced, phone numbers
    masked, tokens replaced and login codes starred."""
    if not text:
        return text
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, REPLACED)
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _CODE.sub(r"\1******", text)
    return _PHONE.sub(lambda match: mask_phone(match.group(0)), text)


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers, tokens and codes in every record a handler writes
    (message and traceback), except the console provider's. The record itself is
    rewritten, so handlers after this one see the masked text too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == CONSOLE_LOGGER:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the handler reports it
            return True
        known = _known(record.exc_info[1] if record.exc_info else None)
        record.msg, record.args = scrub_text(message, known), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text, known)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info, known)
        return True


# --- Sentry ----------------------------------------------------------------------------
# Names of local variables, form fields and JSON keys whose values are personal data
# or secrets, whatever they hold: replaced whole by the SDK's scrubber (recursively).
PERSONAL_KEYS = [
    "phone",
    "phone_number",
    "to",
    "from",
    "sender",
    "recipient_id",
    "wa_id",
    "text",
    "body",
    "message",
    "msg",
    "content",
    "code",
    "otp",
    "code_hash",
    "variables",
    "buttons",
    "button_payload",
    "payload",
    "template",
    "form",
    "details",
    "note",
    "access",
    "refresh",
    "jwt",
    "raw_token",
    "validated_token",
]


def _scrub(value: Any, known: frozenset[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, known)
    if isinstance(value, dict):
        return {key: _scrub(item, known) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, known) for item in value]
    return value


def _hint_exception(hint: dict | None) -> BaseException | None:
    exc_info = (hint or {}).get("exc_info")
    return exc_info[1] if exc_info else None


def sentry_before_breadcrumb(crumb: dict, hint: dict) -> dict | None:
    """The console provider's lines (whole texts and codes) never become breadcrumbs."""
    if crumb.get("category") == CONSOLE_LOGGER:
        return None
    record = (hint or {}).get("log_record")
    return _scrub(crumb, _known(record.exc_info[1] if record is not None and record.exc_info else None))


def sentry_before_send(event: dict, hint: dict) -> dict:
    """Every string of the event with the texts and codes named by ``personal_data``
    replaced and phone numbers, tokens and codes masked (the exception's text, the
    log message and its parameters, frames, breadcrumbs)."""
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and isinstance(breadcrumbs.get("values"), list):
        breadcrumbs["values"] = [
            crumb
            for crumb in breadcrumbs["values"]
            if not (isinstance(crumb, dict) and crumb.get("category") == CONSOLE_LOGGER)
        ]
    return _scrub(event, _known(_hint_exception(hint)))


def sentry_options(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> dict:
    """The keyword arguments of ``sentry_sdk.init`` (settings.py and the tests use
    the same): Django and Celery integrations, no personal data."""
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    return {
        "dsn": dsn,
        "environment": environment,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "traces_sample_rate": traces_sample_rate,
        # No "send_default_pii" (deprecated in 2.x): its default keeps users, addresses and cookies out.
        # Bodies carry phones, login codes, tokens and notes: never sent.
        "max_request_body_size": "never",
        "event_scrubber": EventScrubber(denylist=[*DEFAULT_DENYLIST, *PERSONAL_KEYS], recursive=True),
        "before_send": sentry_before_send,
        "before_send_transaction": sentry_before_send,
        "before_breadcrumb": sentry_before_breadcrumb,
    }
