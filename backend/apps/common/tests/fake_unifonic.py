"""A local HTTP server that speaks Unifonic's SMS API (see shared/providers.md): a
form-encoded POST to /rest/SMS/messages, answered with Unifonic's success body
(units and cost). It records every message with its sender and message type."""

import itertools
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from apps.common.tests.fake_server import JsonHandler, LocalServer


@dataclass
class FakeUnifonic(LocalServer):
    app_sid: str = "unifonic-app-sid"
    sender: str = "SALON"
    received: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._ids = itertools.count(3200017889310)
        self._serve(self._handler())

    def env(self) -> dict[str, str]:
        """Settings that point the ``unifonic`` adapter of another process here."""
        return {"UNIFONIC_BASE_URL": self.url, "UNIFONIC_APP_SID": self.app_sid, "UNIFONIC_SENDER_ID": self.sender}

    def to(self, phone: str) -> list[dict]:
        with self._lock:
            return [m for m in self.received if m["Recipient"] == phone.lstrip("+")]

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
                if self.path != "/rest/SMS/messages":
                    return self.answer(404, {"success": "false", "message": "Not found", "errorCode": "404"})
                if form.get("AppSid") != fake.app_sid:
                    return self.answer(401, {"success": "false", "message": "Invalid AppSid", "errorCode": "ER-10"})
                if not form.get("Body") or not form.get("Recipient") or not form.get("SenderID"):
                    return self.answer(449, {"success": "false", "message": "Empty body", "errorCode": "ER-04"})
                message_id = next(fake._ids)
                with fake._lock:
                    fake.received.append({**form, "MessageID": message_id, "at": time.time()})
                data = {"MessageID": message_id, "Status": "Queued", "NumberOfUnits": 1, "Cost": 0.05}
                return self.answer(200, {"success": "true", "message": "", "errorCode": "ER-00", "data": data})

        return Handler
