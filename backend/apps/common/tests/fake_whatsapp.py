"""A local HTTP server that speaks Meta's WhatsApp Cloud API (see shared/providers.md),
and posts inbound messages to our webhook the way Meta does, signed.

It checks what Meta checks on a send (path, bearer token, JSON shape), answers
with Meta's success body, records every message, and can play the person: press
a template's quick-reply button, an interactive reply button, or write text.
"""

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field

import httpx

from apps.common.tests.fake_server import JsonHandler, LocalServer


@dataclass
class FakeWhatsApp(LocalServer):
    token: str = "meta-token"
    phone_number_id: str = "1098765"
    version: str = "v21.0"
    app_secret: str = "meta-app-secret"
    business_number: str = "966110000000"
    sent: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._ids = itertools.count(1)
        self._serve(self._handler())

    def settings(self) -> dict[str, str]:
        """Settings that point the ``whatsapp_cloud`` adapter and the webhook here."""
        return {
            "WHATSAPP_BASE_URL": self.url,
            "WHATSAPP_TOKEN": self.token,
            "WHATSAPP_PHONE_NUMBER_ID": self.phone_number_id,
            "WHATSAPP_API_VERSION": self.version,
            "WHATSAPP_APP_SECRET": self.app_secret,
        }

    # --- what Meta reports later: delivery statuses, template states, preferences ---------
    def status(self, *, message_id: str, status: str, code: int | None = None, title: str = "") -> dict:
        """A status webhook for one message we sent (``failed`` carries ``errors``)."""
        item = {"id": message_id, "status": status, "timestamp": str(int(time.time())), "recipient_id": "0"}
        if code is not None:
            error = {"code": code, "title": title, "message": title, "error_data": {"details": title}}
            item["errors"] = [error | {"href": "/documentation/business-messaging/whatsapp/support/error-codes"}]
        value = {"messaging_product": "whatsapp", "metadata": self._metadata(), "statuses": [item]}
        return self._envelope("messages", value)

    def template_event(self, *, name: str, language: str, event: str, at: int | None = None, **extra) -> dict:
        """``message_template_status_update``: APPROVED, PAUSED, DISABLED, REJECTED, ..."""
        value = {
            "event": event,
            "message_template_id": 1689556908129832,
            "message_template_name": name,
            "message_template_language": language,
            "reason": "NONE",
            **extra,
        }
        return self._envelope("message_template_status_update", value, at=at)

    def template_quality(self, *, name: str, language: str, new: str, previous: str = "GREEN", at=None) -> dict:
        value = {
            "previous_quality_score": previous,
            "new_quality_score": new,
            "message_template_id": 806312974732579,
            "message_template_name": name,
            "message_template_language": language,
        }
        return self._envelope("message_template_quality_update", value, at=at)

    def template_category(self, *, name: str, language: str, new: str, previous: str = "", at=None, **extra) -> dict:
        value = {"message_template_id": 278077987957091, "message_template_name": name}
        value |= {"message_template_language": language, "new_category": new, **extra}
        if previous:
            value["previous_category"] = previous
        return self._envelope("template_category_update", value, at=at)

    def user_preference(self, *, sender: str, value: str) -> dict:
        """``user_preferences``: the person stopped (``stop``) or resumed (``resume``) marketing messages."""
        wa_id = sender.lstrip("+")
        detail = f"User requested to {value} marketing messages"
        preference = {"wa_id": wa_id, "detail": detail, "category": "marketing_messages", "value": value}
        body = {
            "messaging_product": "whatsapp",
            "metadata": self._metadata(),
            "contacts": [{"wa_id": wa_id}],
            "user_preferences": [preference | {"timestamp": int(time.time())}],
        }
        return self._envelope("user_preferences", body)

    def _metadata(self) -> dict:
        return {"display_phone_number": self.business_number, "phone_number_id": self.phone_number_id}

    @staticmethod
    def _envelope(field: str, value: dict, *, at: int | None = None) -> dict:
        entry = {"id": "102290129340398", "changes": [{"field": field, "value": value}]}
        if field != "messages" and field != "user_preferences":
            entry["time"] = at if at is not None else int(time.time())
        return {"object": "whatsapp_business_account", "entry": [entry]}

    # --- what was sent ----------------------------------------------------------------
    def messages_to(self, phone: str) -> list[dict]:
        with self._lock:
            return [m for m in self.sent if m["to"] == phone.lstrip("+")]

    def last_template_to(self, phone: str) -> dict:
        return [m for m in self.messages_to(phone) if m["type"] == "template"][-1]

    @staticmethod
    def button_payloads(message: dict) -> list[str]:
        components = message["template"]["components"]
        return [c["parameters"][0]["payload"] for c in components if c["type"] == "button"]

    def texts_to(self, phone: str) -> list[str]:
        return [m["text"]["body"] for m in self.messages_to(phone) if m["type"] == "text"]

    # --- playing the person --------------------------------------------------------------
    # Each returns Meta's notification; `deliver` posts it (as often as Meta redelivers).
    def press_button(self, *, sender: str, payload: str, label: str, replying_to: str = "") -> dict:
        """Tap a template's quick-reply button: a ``button`` message."""
        return self._message(sender, {"type": "button", "button": {"payload": payload, "text": label}}, replying_to)

    def press_interactive(self, *, sender: str, reply_id: str, title: str, replying_to: str = "") -> dict:
        """Tap an interactive message's reply button: an ``interactive`` ``button_reply``."""
        interactive = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self._message(sender, {"type": "interactive", "interactive": interactive}, replying_to)

    def write(self, *, sender: str, text: str) -> dict:
        return self._message(sender, {"type": "text", "text": {"body": text}}, "")

    def _message(self, sender: str, content: dict, replying_to: str) -> dict:
        message = {
            "from": sender.lstrip("+"),
            "id": f"wamid.{uuid.uuid4().hex}",
            "timestamp": str(int(time.time())),
            **content,
        }
        if replying_to:
            message["context"] = {"from": self.business_number, "id": replying_to}
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.business_number,
                                    "phone_number_id": self.phone_number_id,
                                },
                                "contacts": [{"profile": {"name": "Customer"}, "wa_id": sender.lstrip("+")}],
                                "messages": [message],
                            },
                        }
                    ],
                }
            ],
        }

    def deliver(self, webhook: str, notification: dict, *, secret: str | None = None) -> httpx.Response:
        """POST a notification to our webhook with Meta's signature (of these exact bytes)."""
        raw = json.dumps(notification).encode()
        signature = hmac.new((secret or self.app_secret).encode(), raw, hashlib.sha256).hexdigest()
        return httpx.post(
            webhook,
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
            timeout=30,
        )

    # --- the server --------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.body() or b"{}")
                if self.path != f"/{fake.version}/{fake.phone_number_id}/messages":
                    return self.answer(404, {"error": {"message": "Unknown path", "code": 100}})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self.answer(401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
                if body.get("messaging_product") != "whatsapp" or body.get("type") not in ("template", "text"):
                    return self.answer(400, {"error": {"message": "Invalid parameter", "code": 100}})
                message_id = f"wamid.OUT{next(fake._ids)}"
                with fake._lock:
                    fake.sent.append({**body, "id": message_id})
                contacts = [{"input": body["to"], "wa_id": body["to"]}]
                return self.answer(
                    200, {"messaging_product": "whatsapp", "contacts": contacts, "messages": [{"id": message_id}]}
                )

        return Handler
