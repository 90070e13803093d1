"""Request bodies with a size limit, and JSON with only text that is text.

DRF's parser reads the request stream itself, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE never applies to API bodies; this parser reads at
most that many bytes (plus one, to notice more) whatever Content-Length says.
Provider webhooks read theirs with ``read_limited_body`` / ``read_limited_form``
under their own, larger limit (WEBHOOK_MAX_BODY_SIZE): providers batch reports.

JSON may escape half of a UTF-16 surrogate pair on its own (``"\\ud800"``): valid
JSON, but no character, with no UTF-8 form. Such a string cannot be stored,
logged or echoed in an error message (a 500 wherever it reached), so a body
holding one, in any key or value at any depth, is refused here, once for every
field of every endpoint.
"""

import json
import re

from django.conf import settings
from django.http import QueryDict
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from apps.common.error_codes import CommonErrorCode

TOO_DEEP = "JSON parse error - the body is nested too deeply."

_SURROGATE = re.compile("[\ud800-\udfff]")
# A lone surrogate only ever enters through a \uD800-\uDFFF escape (decoding bytes
# never yields one): bodies without such an escape are not walked.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = CommonErrorCode.REQUEST_TOO_LARGE


class LoneSurrogate(ValueError):
    """A JSON string holds half a surrogate pair: not text."""


def parse_json(text: str | bytes, *, lone_surrogates: str = "refuse"):
    """``json.loads`` for bodies from outside. A lone surrogate anywhere in the
    document raises ``LoneSurrogate`` (a ValueError) naming where it is, or, with
    ``lone_surrogates="replace"`` (signed provider bodies: the sender cannot mend
    them, and a refusal is retried for hours), becomes U+FFFD as a UTF-8 decoder would."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    value = json.loads(text)
    if not (_SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text)):
        return value
    if lone_surrogates == "replace":
        return _replace_lone_surrogates(value)
    found = _lone_surrogate(value)
    if found:
        place, char = found
        raise LoneSurrogate(
            f"a lone surrogate (U+{ord(char):04X}) {place} is not text: send characters, "
            "or both halves of a surrogate pair"
        )
    return value


def _replace_lone_surrogates(document):
    """``document`` with U+FFFD for every lone surrogate, containers mended in place."""

    def mended(value):
        return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key in [key for key in value if _SURROGATE.search(key)]:
                value[mended(key)] = value.pop(key)
            for key, item in value.items():
                value[key] = mended(item)
                pending.append(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = mended(item)
                pending.append(item)
    return mended(document)


def _lone_surrogate(document) -> tuple[str, str] | None:
    """(where, the surrogate) of a lone surrogate in ``document``, walking without recursion
    (a body may be nested as deep as the JSON decoder allows)."""
    pending = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            match = _SURROGATE.search(value)
            if match:
                return (f"in {path}" if path else "in the body"), match.group()
        elif isinstance(value, dict):
            for key, item in value.items():
                match = _SURROGATE.search(key)
                if match:
                    return (f"in a key of {path}" if path else "in a key"), match.group()
                pending.append((item, f"{path}.{_printable(key)}" if path else _printable(key)))
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return None


def _printable(key: str) -> str:
    return key if len(key) <= 40 else f"{key[:40]}..."


def read_limited_body(request, *, limit: int) -> bytes:
    """The raw body of ``request`` (Django's or DRF's), at most ``limit`` bytes, else
    ``RequestTooLarge`` (413). Read from the request's stream, so that a view may take
    more than DATA_UPLOAD_MAX_MEMORY_SIZE, which ``request.body`` enforces."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge()
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise RequestTooLarge()
    return raw


def read_limited_form(request, *, limit: int) -> QueryDict:
    """The parameters of a form-encoded body of at most ``limit`` bytes (413 beyond);
    a body of any other type reads as no parameters, as ``request.POST`` does."""
    if request.content_type != "application/x-www-form-urlencoded":
        return QueryDict()
    return QueryDict(read_limited_body(request, limit=limit), encoding=request.encoding or settings.DEFAULT_CHARSET)


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return parse_json(raw.decode(encoding)) if raw else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
