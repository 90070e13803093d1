"""A local HTTP server that speaks Unifonic's SMS API (see shared/providers.md): a
form-encoded POST to /rest/SMS/messages, answered with Unifonic's success body
(units and cost). It records every message with its sender and message type."""

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class FakeUnifonic:
    app_sid: str = "unifonic-app-sid"
    sender: str = "SALON"
    received: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(3200017889310)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """Settings that point the ``unifonic`` adapter of another process here."""
        return {"UNIFONIC_BASE_URL": self.url, "UNIFONIC_APP_SID": self.app_sid, "UNIFONIC_SENDER_ID": self.sender}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def to(self, phone: str) -> list[dict]:
        with self._lock:
            return [m for m in self.received if m["Recipient"] == phone.lstrip("+")]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # see fake_twilio: no 40 ms wait for a delayed ACK

            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/rest/SMS/messages":
                    return self._answer(404, {"success": "false", "message": "Not found", "errorCode": "404"})
                if form.get("AppSid") != fake.app_sid:
                    return self._answer(401, {"success": "false", "message": "Invalid AppSid", "errorCode": "ER-10"})
                if not form.get("Body") or not form.get("Recipient") or not form.get("SenderID"):
                    return self._answer(449, {"success": "false", "message": "Empty body", "errorCode": "ER-04"})
                message_id = next(fake._ids)
                with fake._lock:
                    fake.received.append({**form, "MessageID": message_id, "at": time.time()})
                data = {"MessageID": message_id, "Status": "Queued", "NumberOfUnits": 1, "Cost": 0.05}
                return self._answer(200, {"success": "true", "message": "", "errorCode": "ER-00", "data": data})

        return Handler
