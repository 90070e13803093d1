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
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
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

from apps.accounts.models import User
from apps.common.channels import Channel
from apps.common.errors import AppError, PermissionDenied
from apps.common.parsers import TOO_DEEP, parse_json, read_limited_body, read_limited_form
from apps.common.phones import normalize_mobile
from apps.common.text import clean_text, usable_id
from apps.notifications.consent import consent_from_whatsapp
from apps.notifications.delivery.reports import notification_record_delivery
from apps.notifications.error_codes import NotificationErrorCode
from apps.notifications.inbound import IncomingMessage, inbound_message_receive
from apps.notifications.models import TemplateStatus
from apps.notifications.whatsapp_templates import whatsapp_template_record

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
        error_text = params.get("ChannelStatusMessage") or ("delivery failed" if params.get("ErrorCode") else "")
        _alone(
            "status",
            notification_record_delivery,
            provider_message_id=usable_id(params.get("MessageSid")),
            status=clean_text(params.get("MessageStatus")),
            at=timezone.now(),  # Twilio's reports carry no timestamp
            error_code=clean_text(params.get("ErrorCode")),
            error_text=clean_text(error_text),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwilioInboundWebhook(_TwilioWebhook):
    """Twilio incoming messages: quick-reply buttons (``ButtonPayload``), text, STOP."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        params = self.verified_params(request)
        sender = clean_text(params.get("From"))
        _receive_alone(
            IncomingMessage(
                provider="twilio",
                provider_message_id=usable_id(params.get("MessageSid")),
                channel=Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS,
                phone=sender,
                text=clean_text(params.get("Body")),
                button_text=clean_text(params.get("ButtonText")),
                button_payload=clean_text(params.get("ButtonPayload")),
                opt_out=clean_text(params.get("OptOutType")).upper() == "STOP",
                context_id=usable_id(params.get("OriginalRepliedMessageSid")),
            )
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WhatsAppWebhook(_ProviderWebhook):
    """Meta WhatsApp Cloud API: the subscription handshake (GET); delivery statuses,
    inbound messages (button replies, interactive replies, text) and the state of
    our templates (POST)."""

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
        # Each item stands alone: one that cannot be used is logged and skipped, the
        # others are recorded, and Meta gets its 200 (a 500 would be retried for hours).
        messages = _whatsapp_messages(payload)
        for message in messages:
            _receive_alone(message)
        statuses = _whatsapp_statuses(payload)
        # Oldest first, so a later report always has the last word.
        for at, item in sorted(statuses, key=lambda pair: pair[0]):
            error = _as_dict(next(iter(_as_list(item.get("errors"))), None))
            _alone(
                "status",
                notification_record_delivery,
                provider_message_id=usable_id(item.get("id")),
                status=clean_text(item.get("status")),
                at=at,
                error_code=clean_text(error.get("code")),
                error_text=clean_text(error.get("title") or error.get("message")),
            )
        templates = _whatsapp_template_changes(payload)
        for change in templates:
            _alone("template", whatsapp_template_record, **change)
        preferences = _whatsapp_preferences(payload)
        for preference in preferences:
            _alone("preference", _record_preference, preference)
        return Response({"received": len(statuses) + len(messages) + len(templates) + len(preferences)})


def _alone(kind: str, function, *args, **kwargs) -> None:
    """Apply one item of a provider's batch in a savepoint of its own: if it fails, it is
    logged (without its content) and the rest of the batch still counts."""
    try:
        with transaction.atomic():
            function(*args, **kwargs)
    except (OperationalError, InterfaceError):
        raise  # the database is down: a 503, and the provider sends the batch again later
    except (DatabaseError, ValueError, TypeError, KeyError, AttributeError):
        logger.exception("Webhook %s item skipped: it could not be recorded", kind)


def _receive_alone(message: IncomingMessage) -> None:
    _alone("message", inbound_message_receive, message)


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


# Meta's template events -> the state we keep (LOCKED and UNARCHIVED say nothing about sending).
TEMPLATE_EVENT_STATUS = {
    "APPROVED": TemplateStatus.APPROVED,
    "REINSTATED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "REJECTED": TemplateStatus.REJECTED,
    "FLAGGED": TemplateStatus.FLAGGED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "IN_APPEAL": TemplateStatus.IN_APPEAL,
    "PENDING_DELETION": TemplateStatus.PENDING_DELETION,
    "DELETED": TemplateStatus.DELETED,
    "ARCHIVED": TemplateStatus.ARCHIVED,
    "LIMIT_EXCEEDED": TemplateStatus.LIMIT_EXCEEDED,
}


def _whatsapp_template_changes(payload) -> list[dict]:
    """What Meta's template fields say about our templates, as ``whatsapp_template_record``
    arguments: ``message_template_status_update`` (approved, paused, ...),
    ``message_template_quality_update`` and ``template_category_update`` (a
    completed change; an announced one, with ``correct_category``, changes nothing yet)."""
    changes = []
    for entry in _as_list(_as_dict(payload).get("entry")):
        at = _unix_time(_as_dict(entry).get("time")) or timezone.now()
        for change in _as_list(_as_dict(entry).get("changes")):
            change = _as_dict(change)
            value = _as_dict(change.get("value"))
            template = {
                "name": usable_id(value.get("message_template_name")),
                "language": usable_id(value.get("message_template_language")),
                "meta_template_id": usable_id(value.get("message_template_id")),
                "at": at,
            }
            field = change.get("field")
            if field == "message_template_status_update":
                status = TEMPLATE_EVENT_STATUS.get(str(value.get("event") or "").upper(), "")
                other = _as_dict(value.get("other_info"))
                reason = clean_text(" ".join(str(part) for part in (value.get("reason"), other.get("title")) if part))
                category = str(value.get("message_template_category") or "").upper()
                changes.append(template | {"status": status, "category": category, "reason": reason})
            elif field == "message_template_quality_update":
                changes.append(template | {"quality": str(value.get("new_quality_score") or "").upper()})
            elif field == "template_category_update" and "correct_category" not in value:
                changes.append(template | {"category": str(value.get("new_category") or "").upper()})
    return changes


def _whatsapp_preferences(payload) -> list[dict]:
    """Meta's ``user_preferences`` changes: a person stopped (``stop``) or resumed
    (``resume``) marketing messages from us inside WhatsApp."""
    found = []
    for entry in _as_list(_as_dict(payload).get("entry")):
        for change in _as_list(_as_dict(entry).get("changes")):
            change = _as_dict(change)
            if change.get("field") != "user_preferences":
                continue
            for item in map(_as_dict, _as_list(_as_dict(change.get("value")).get("user_preferences"))):
                if item.get("category") == "marketing_messages" and item.get("value") in ("stop", "resume"):
                    found.append(item)
    return found


def _record_preference(item: dict) -> None:
    try:
        phone = normalize_mobile(str(item.get("wa_id") or ""))
    except AppError:
        logger.warning("WhatsApp preference for an unusable number skipped")
        return
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return  # not someone we know: nothing of theirs to record
    consent_from_whatsapp(
        user=user,
        granted=item["value"] == "resume",
        detail=str(item.get("detail") or "")[:300],
        at=_unix_time(item.get("timestamp")),
    )


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
                provider_message_id=usable_id(item.get("id")),
                channel=Channel.WHATSAPP,
                phone=clean_text(item.get("from")),
                text=clean_text(_as_dict(item.get("text")).get("body")),
                button_text=clean_text(button.get("text") or reply.get("title")),
                button_payload=clean_text(button.get("payload") or reply.get("id")),
                received_at=_unix_time(item.get("timestamp")),
                context_id=usable_id(_as_dict(item.get("context")).get("id")),
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
