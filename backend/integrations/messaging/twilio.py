"""Twilio Programmable Messaging over its REST API (SMS and WhatsApp).

Spoken directly with httpx so the base URL is a setting (tests point it at a
local fake server); the official SDK hard-codes its host. WhatsApp messages use
an approved content template (``ContentSid`` + ``ContentVariables``) when one is
configured for the event, audience and language (TWILIO_CONTENT_SIDS).
"""

import json

import httpx
from django.conf import settings

from apps.common.channels import Channel, MessageClass
from integrations.messaging.base import (
    MessageProvider,
    PermanentProviderError,
    ProviderErrorCode,
    SentMessage,
    Template,
    error_from_answer,
    json_body,
    reported_price,
    reported_segments,
    sms_sender,
)
from integrations.messaging.http import post


class TwilioProvider(MessageProvider):
    name = "twilio"
    channels = frozenset({Channel.SMS, Channel.WHATSAPP})

    def account(self) -> str:
        return settings.TWILIO_ACCOUNT_SID

    def send(
        self,
        phone: str,
        text: str,
        channel: str,
        template: Template | None = None,
        *,
        message_class: str = MessageClass.SERVICE,
    ) -> SentMessage:
        self.check_channel(channel)
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not sid or not token:
            raise PermanentProviderError(
                "Twilio credentials are not configured.", code=ProviderErrorCode.NOT_CONFIGURED
            )
        if channel == Channel.WHATSAPP:
            form = {"To": f"whatsapp:{phone}", "From": f"whatsapp:{settings.TWILIO_WHATSAPP_FROM}"}
            content_sid = template and settings.TWILIO_CONTENT_SIDS.get(f"{template.name}:{template.language}")
            if content_sid:
                # Body variables first, then the quick replies' ids (their payloads).
                values = [*template.variables, *template.buttons]
                variables = {str(i): value for i, value in enumerate(values, start=1)}
                form |= {"ContentSid": content_sid, "ContentVariables": json.dumps(variables, ensure_ascii=False)}
            else:
                form["Body"] = text
        else:
            if message_class == MessageClass.PROMOTIONAL:
                # Twilio's Saudi traffic is for service messages: promotional SMS go through a Saudi gateway.
                raise PermanentProviderError(
                    "Promotional SMS are not sent through Twilio.", code=ProviderErrorCode.NOT_ALLOWED
                )
            form = {"To": phone, "From": sms_sender(settings.TWILIO_FROM, message_class), "Body": text}
        if settings.PUBLIC_BASE_URL:
            form["StatusCallback"] = f"{settings.PUBLIC_BASE_URL}/api/webhooks/twilio/status/"
        response = post(
            f"{settings.TWILIO_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json",
            data=form,
            auth=httpx.BasicAuth(sid, token),
        )
        body = json_body(response)
        if response.is_success and body.get("sid"):
            # Twilio fills the price only once the carrier has billed it (null here).
            return SentMessage(
                message_id=str(body["sid"]),
                segments=reported_segments(body.get("num_segments")),
                price=reported_price(body.get("price")),
                price_unit=str(body.get("price_unit") or "")[:8] if body.get("price") is not None else "",
            )
        code = str(body.get("code") or response.status_code)
        message = str(body.get("message") or f"Twilio answered HTTP {response.status_code}.")
        raise error_from_answer(self.name, response.status_code, code=code, message=message)
