"""Meta's WhatsApp Cloud API: approved template messages.

Booking messages are started by the business, so they go out as templates (one
per event, audience and language); free text is only allowed inside the 24-hour
window a customer opens, which a booking message cannot rely on.
"""

from django.conf import settings

from apps.accounts.services.providers.base import (
    MessageProvider,
    PermanentProviderError,
    ProviderErrorCode,
    Template,
    digits,
    error_from_answer,
    json_body,
)
from apps.accounts.services.providers.http import post
from apps.common.channels import Channel

TRANSIENT_CODES = {"130429", "131056"}  # rate limit, pair rate limit


class WhatsAppCloudProvider(MessageProvider):
    name = "whatsapp_cloud"
    channels = frozenset({Channel.WHATSAPP})

    def send(self, phone: str, text: str, channel: str, template: Template | None = None) -> str:
        self.check_channel(channel)
        if not settings.WHATSAPP_TOKEN or not settings.WHATSAPP_PHONE_NUMBER_ID:
            raise PermanentProviderError("WhatsApp Cloud API is not configured.", code=ProviderErrorCode.NOT_CONFIGURED)
        if template is None:
            raise PermanentProviderError(
                "WhatsApp booking messages need an approved template.", code=ProviderErrorCode.NO_TEMPLATE
            )
        response = post(
            f"{settings.WHATSAPP_BASE_URL.rstrip('/')}/{settings.WHATSAPP_API_VERSION}/"
            f"{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": digits(phone),
                "type": "template",
                "template": {
                    "name": template.name,
                    "language": {"code": template.language},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": v} for v in template.variables]}
                    ],
                },
            },
            headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"},
        )
        body = json_body(response)
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        if response.is_success and messages and isinstance(messages[0], dict) and messages[0].get("id"):
            return str(messages[0]["id"])
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = str(error.get("code") or response.status_code)
        details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
        message = str(details or error.get("message") or f"WhatsApp answered HTTP {response.status_code}.")
        raise error_from_answer(response.status_code, code=code, message=message, transient_codes=TRANSIENT_CODES)
