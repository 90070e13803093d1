"""Provider callbacks: delivery reports, and what people send us (buttons, text, STOP).

Each request's signature is verified before anything is read from or written to
the database: Twilio's ``X-Twilio-Signature`` with the official RequestValidator,
Meta's ``X-Hub-Signature-256`` as HMAC-SHA256 of the raw body with the app secret.
"""

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.request_validator import RequestValidator

from apps.accounts.services.providers.twilio import OPTED_OUT_CODES
from apps.accounts.services.users import user_opt_out
from apps.common.channels import Channel
from apps.common.errors import PermissionDenied
from apps.common.parsers import TOO_DEEP, parse_json, read_limited_body, read_limited_form
from apps.notifications.delivery import notification_record_delivery
from apps.notifications.error_codes import NotificationErrorCode
from apps.notifications.inbound import IncomingMessage, inbound_message_receive

logger = logging.getLogger(__name__)


def _bad_signature() -> PermissionDenied:
    return PermissionDenied("The request signature is missing or wrong.", code=NotificationErrorCode.INVALID_SIGNATURE)


class _ProviderWebhook(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class _TwilioWebhook(_ProviderWebhook):
    parser_classes = [FormParser]  # what Twilio sends (documents the schema)

    def verified_params(self, request) -> dict[str, str]:
        signature = request.headers.get("X-Twilio-Signature", "")
        # The full URL Twilio called: behind a proxy, the public one.
        url = (
            f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
            if settings.PUBLIC_BASE_URL
            else request.build_absolute_uri()
        )
        # Django's own form parsing: a body of any other type reads as no
        # parameters and fails the signature (403), rather than a 415 first.
        form = read_limited_form(request, limit=settings.WEBHOOK_MAX_BODY_SIZE)
        params = {key: form.get(key) for key in form}
        token = settings.TWILIO_AUTH_TOKEN
        if not token or not signature or not RequestValidator(token).validate(url, params, signature):
            raise _bad_signature()
        return params


class TwilioStatusWebhook(_TwilioWebhook):
    """Twilio StatusCallback: delivery reports for SMS and WhatsApp messages."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        params = self.verified_params(request)
        notification = notification_record_delivery(
            provider_message_id=params.get("MessageSid", ""),
            status=params.get("MessageStatus", ""),
            at=timezone.now(),  # Twilio's reports carry no timestamp
            error=f"[{params['ErrorCode']}] delivery failed" if params.get("ErrorCode") else "",
        )
        if notification is not None and params.get("ErrorCode") in OPTED_OUT_CODES:
            user_opt_out(user_id=notification.recipient_id, channel=notification.channel)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwilioInboundWebhook(_TwilioWebhook):
    """Twilio incoming messages: quick-reply buttons (``ButtonPayload``), text, STOP."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        params = self.verified_params(request)
        sender = params.get("From", "")
        inbound_message_receive(
            IncomingMessage(
                provider="twilio",
                provider_message_id=params.get("MessageSid", ""),
                channel=Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS,
                phone=sender,
                text=params.get("Body") or "",
                button_text=params.get("ButtonText") or "",
                button_payload=params.get("ButtonPayload") or "",
                opt_out=(params.get("OptOutType") or "").upper() == "STOP",
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WhatsAppWebhook(_ProviderWebhook):
    """Meta WhatsApp Cloud API: the subscription handshake (GET); delivery statuses
    and inbound messages (button replies, interactive replies, text) (POST)."""

    @extend_schema(request=None, responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request):
        mode = request.query_params.get("hub.mode", "")
        token = request.query_params.get("hub.verify_token", "")
        expected = settings.WHATSAPP_VERIFY_TOKEN
        if mode != "subscribe" or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise PermissionDenied("Verification token mismatch.", code=NotificationErrorCode.INVALID_VERIFY_TOKEN)
        return HttpResponse(request.query_params.get("hub.challenge", ""), content_type="text/plain")

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        # The exact bytes Meta signed (never re-serialised JSON), up to the webhook limit.
        raw = read_limited_body(request, limit=settings.WEBHOOK_MAX_BODY_SIZE)
        secret = settings.WHATSAPP_APP_SECRET
        given = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest() if secret else ""
        if not secret or not hmac.compare_digest(given.encode(), expected.encode()):
            raise _bad_signature()
        try:
            payload = parse_json(raw, lone_surrogates="replace")
        except ValueError:
            return Response({"received": 0})
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        messages = _whatsapp_messages(payload)
        for message in messages:
            inbound_message_receive(message)
        statuses = _whatsapp_statuses(payload)
        # Oldest first, so a later report always has the last word.
        for at, item in sorted(statuses, key=lambda pair: pair[0]):
            error = _as_dict(next(iter(_as_list(item.get("errors"))), None))
            notification_record_delivery(
                provider_message_id=str(item.get("id") or ""),
                status=str(item.get("status") or ""),
                at=at,
                error=f"[{error.get('code')}] {error.get('title') or error.get('message') or ''}".strip()
                if error
                else "",
            )
        return Response({"received": len(statuses) + len(messages)})


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _whatsapp_statuses(payload) -> list[tuple[datetime, dict]]:
    """The status objects of a Meta notification with their times.

    The body is signed by Meta but its shape is not ours to trust: anything not
    shaped like a status with a Unix timestamp is skipped (and logged), so a
    format change never turns into a 500 that Meta retries for hours.
    """
    statuses = []
    for item in _whatsapp_items(payload, "statuses"):
        at = _unix_time(_as_dict(item).get("timestamp"))
        if at is None:
            logger.warning("WhatsApp status without a usable timestamp skipped: %.200r", item)
            continue
        statuses.append((at, item))
    return statuses


def _whatsapp_items(payload, kind: str) -> list:
    """The ``kind`` list ("statuses" or "messages") of every ``messages`` change of
    a Meta notification, whatever else the body holds."""
    items = []
    for entry in _as_list(_as_dict(payload).get("entry")):
        for change in _as_list(_as_dict(entry).get("changes")):
            change = _as_dict(change)
            if change.get("field") == "messages":
                items.extend(_as_list(_as_dict(change.get("value")).get(kind)))
    return items


def _whatsapp_messages(payload) -> list[IncomingMessage]:
    """The inbound messages of a Meta notification: a template's quick-reply button
    (``type: button``), an interactive reply (``interactive.button_reply``), text.
    Read as defensively as the statuses: anything else is skipped."""
    found = []
    for item in map(_as_dict, _whatsapp_items(payload, "messages")):
        button = _as_dict(item.get("button"))
        reply = _as_dict(_as_dict(item.get("interactive")).get("button_reply"))
        found.append(
            IncomingMessage(
                provider="whatsapp_cloud",
                provider_message_id=str(item.get("id") or ""),
                channel=Channel.WHATSAPP,
                phone=str(item.get("from") or ""),
                text=str(_as_dict(item.get("text")).get("body") or ""),
                button_text=str(button.get("text") or reply.get("title") or ""),
                button_payload=str(button.get("payload") or reply.get("id") or ""),
                received_at=_unix_time(item.get("timestamp")),
            )
        )
    return found


def _unix_time(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
