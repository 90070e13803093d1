"""Meta's WhatsApp Cloud API: approved template messages, and text answers.

Booking messages are started by the business, so they go out as templates (one
per event, audience and language), with quick-reply button payloads where a reply
makes sense. Free text is only allowed inside the 24-hour window a customer opens
by writing to us: it is used for answers to their replies (no template).
"""

from django.conf import settings

from apps.common.channels import Channel, MessageClass
from integrations.messaging.base import (
    MessageProvider,
    PermanentProviderError,
    ProviderErrorCode,
    SentMessage,
    Template,
    digits,
    error_from_answer,
    json_body,
)
from integrations.messaging.http import post


class WhatsAppCloudProvider(MessageProvider):
    name = "whatsapp_cloud"
    channels = frozenset({Channel.WHATSAPP})

    def account(self) -> str:
        return settings.WHATSAPP_PHONE_NUMBER_ID

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
        if not settings.WHATSAPP_TOKEN or not settings.WHATSAPP_PHONE_NUMBER_ID:
            raise PermanentProviderError("WhatsApp Cloud API is not configured.", code=ProviderErrorCode.NOT_CONFIGURED)
        message = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": digits(phone)}
        if template is None:  # an answer inside the customer's 24-hour window
            message |= {"type": "text", "text": {"body": text}}
        else:
            components = [{"type": "body", "parameters": [{"type": "text", "text": v} for v in template.variables]}]
            components += [
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": str(index),
                    "parameters": [{"type": "payload", "payload": payload}],
                }
                for index, payload in enumerate(template.buttons)
            ]
            message |= {
                "type": "template",
                "template": {"name": template.name, "language": {"code": template.language}, "components": components},
            }
        response = post(
            f"{settings.WHATSAPP_BASE_URL.rstrip('/')}/{settings.WHATSAPP_API_VERSION}/"
            f"{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
            json=message,
            headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"},
        )
        body = json_body(response)
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        if response.is_success and messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return SentMessage(message_id=str(messages[0]["id"]))
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = str(error.get("code") or response.status_code)
        details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
        message = str(details or error.get("message") or f"WhatsApp answered HTTP {response.status_code}.")
        raise error_from_answer(self.name, response.status_code, code=code, message=message)
