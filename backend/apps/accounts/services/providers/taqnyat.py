"""Taqnyat (Saudi SMS): JSON REST call with a bearer token.

Only the success shape (``statusCode`` 201 with ``messageId``) is confirmed; the
error body is read tolerantly (``message`` if present, else the HTTP status).
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


class TaqnyatProvider(MessageProvider):
    name = "taqnyat"
    channels = frozenset({Channel.SMS})

    def send(self, phone: str, text: str, channel: str, template: Template | None = None) -> str:
        self.check_channel(channel)
        if not settings.TAQNYAT_TOKEN:
            raise PermanentProviderError("Taqnyat token is not configured.", code=ProviderErrorCode.NOT_CONFIGURED)
        response = post(
            f"{settings.TAQNYAT_BASE_URL.rstrip('/')}/v1/messages",
            json={"recipients": [digits(phone)], "body": text, "sender": settings.TAQNYAT_SENDER},
            headers={"Authorization": f"Bearer {settings.TAQNYAT_TOKEN}"},
        )
        body = json_body(response)
        if response.is_success and body.get("messageId"):
            return str(body["messageId"])
        code = str(body.get("statusCode") or body.get("code") or response.status_code)
        message = str(body.get("message") or f"Taqnyat answered HTTP {response.status_code}.")
        raise error_from_answer(response.status_code, code=code, message=message)
