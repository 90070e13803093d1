"""Unifonic (Saudi SMS): form-encoded REST call, JSON answer.

``success`` comes as the string "true" or the boolean true; errors use unusual
HTTP codes (449 empty body, 480 sender not allowed, 482 invalid destination)
and ``errorCode`` values (ER-01 balance, ER-02 invalid number, ...).
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
    reported_segments,
    sms_sender,
)
from integrations.messaging.http import post

# KSA traffic classification (Unifonic MessageType): 3 services, 5 promotional (an -AD sender only).
UNIFONIC_MESSAGE_TYPE = {MessageClass.PROMOTIONAL: "5", MessageClass.SERVICE: "3", MessageClass.AUTHENTICATION: "3"}


class UnifonicProvider(MessageProvider):
    name = "unifonic"
    channels = frozenset({Channel.SMS})

    def account(self) -> str:
        return settings.UNIFONIC_APP_SID

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
        if not settings.UNIFONIC_APP_SID:
            raise PermanentProviderError("Unifonic AppSid is not configured.", code=ProviderErrorCode.NOT_CONFIGURED)
        response = post(
            f"{settings.UNIFONIC_BASE_URL.rstrip('/')}/rest/SMS/messages",
            data={
                "AppSid": settings.UNIFONIC_APP_SID,
                "SenderID": sms_sender(settings.UNIFONIC_SENDER_ID, message_class),
                "Recipient": digits(phone),
                "Body": text,
                "responseType": "JSON",
                # KSA traffic classification: 3 services, 5 promotional (an -AD sender only).
                "MessageType": UNIFONIC_MESSAGE_TYPE.get(message_class, "3"),
            },
        )
        body = json_body(response)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if response.is_success and str(body.get("success")).lower() == "true" and data.get("MessageID"):
            return SentMessage(
                message_id=str(data["MessageID"]),
                segments=reported_segments(data.get("NumberOfUnits")),
                price=reported_price(data.get("Cost")),
                price_unit=str(data.get("CurrencyCode") or data.get("Currency") or "")[:8],
            )
        code = str(body.get("errorCode") or response.status_code)
        message = str(body.get("message") or f"Unifonic answered HTTP {response.status_code}.")
        raise error_from_answer(self.name, response.status_code, code=code, message=message)
