"""JSON bodies with a size limit, and only text that is text.

DRF's parser reads the request stream itself, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE never applies to API bodies; this parser reads at
most that many bytes (plus one, to notice more) whatever Content-Length says.

JSON may escape half of a UTF-16 surrogate pair on its own (``"\\ud800"``): valid
JSON, but no character, with no UTF-8 form. Such a string cannot be stored,
logged or echoed in an error message (a 500 wherever it reached), so a body
holding one, in any key or value at any depth, is refused here, once for every
field of every endpoint.
"""

import json
import re

from django.conf import settings
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


def parse_json(text: str | bytes):
    """``json.loads`` that raises ``LoneSurrogate`` (a ValueError) for a lone
    surrogate anywhere in the document, naming where it is."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    value = json.loads(text)
    if _SURROGATE_ESCAPE.search(text) or _SURROGATE.search(text):
        found = _lone_surrogate(value)
        if found:
            place, char = found
            raise LoneSurrogate(
                f"a lone surrogate (U+{ord(char):04X}) {place} is not text: send characters, "
                "or both halves of a surrogate pair"
            )
    return value


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
