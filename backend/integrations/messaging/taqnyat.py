"""Taqnyat (Saudi SMS): JSON REST call with a bearer token.

Only the success shape (``statusCode`` 201 with ``messageId``) is confirmed; the
error body is read tolerantly (``message`` if present, else the HTTP status).
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
    reported_price,
    sms_sender,
)
from integrations.messaging.http import post


class TaqnyatProvider(MessageProvider):
    name = "taqnyat"
    channels = frozenset({Channel.SMS})

    def account(self) -> str:
        return settings.TAQNYAT_TOKEN

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
        if not settings.TAQNYAT_TOKEN:
            raise PermanentProviderError("Taqnyat token is not configured.", code=ProviderErrorCode.NOT_CONFIGURED)
        response = post(
            f"{settings.TAQNYAT_BASE_URL.rstrip('/')}/v1/messages",
            # Taqnyat documents no message-type field: the -AD sender marks a promotional SMS.
            json={
                "recipients": [digits(phone)],
                "body": text,
                "sender": sms_sender(settings.TAQNYAT_SENDER, message_class),
            },
            headers={"Authorization": f"Bearer {settings.TAQNYAT_TOKEN}"},
        )
        body = json_body(response)
        if response.is_success and body.get("messageId"):
            return SentMessage(message_id=str(body["messageId"]), price=reported_price(body.get("cost")))
        code = str(body.get("statusCode") or body.get("code") or response.status_code)
        message = str(body.get("message") or f"Taqnyat answered HTTP {response.status_code}.")
        raise error_from_answer(self.name, response.status_code, code=code, message=message)
