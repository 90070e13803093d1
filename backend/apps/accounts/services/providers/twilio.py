"""Twilio Programmable Messaging over its REST API (SMS and WhatsApp).

Spoken directly with httpx so the base URL is a setting (tests point it at a
local fake server); the official SDK hard-codes its host.
"""

import httpx
from django.conf import settings

from apps.accounts.services.providers.base import (
    SMS,
    WHATSAPP,
    MessageProvider,
    PermanentProviderError,
    TransientProviderError,
)
from apps.accounts.services.providers.http import post

# Twilio error codes that are worth trying again (its own rate limit).
TRANSIENT_CODES = {"20429"}


class TwilioProvider(MessageProvider):
    name = "twilio"
    channels = frozenset({SMS, WHATSAPP})

    def __init__(self, *, account_sid=None, auth_token=None, sms_from=None, whatsapp_from=None, base_url=None):
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        self.auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        self.sms_from = sms_from or settings.TWILIO_FROM
        self.whatsapp_from = whatsapp_from or settings.TWILIO_WHATSAPP_FROM
        self.base_url = (base_url or settings.TWILIO_BASE_URL).rstrip("/")

    def send(self, phone: str, text: str, channel: str) -> str:
        self.check_channel(channel)
        if not self.account_sid or not self.auth_token:
            raise PermanentProviderError("Twilio credentials are not configured.", code="not_configured")
        if channel == WHATSAPP:
            to, sender = f"whatsapp:{phone}", f"whatsapp:{self.whatsapp_from}"
        else:
            to, sender = phone, self.sms_from
        response = post(
            f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
            data={"To": to, "From": sender, "Body": text},
            auth=httpx.BasicAuth(self.account_sid, self.auth_token),
        )
        body = _json(response)
        if response.is_success and body.get("sid"):
            return str(body["sid"])
        code = str(body.get("code") or response.status_code)
        message = str(body.get("message") or f"Twilio answered HTTP {response.status_code}.")
        if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
            raise TransientProviderError(message, code=code)
        raise PermanentProviderError(message, code=code)


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
