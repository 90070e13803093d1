"""A local HTTP server that receives what a Sentry SDK sends (envelopes), for tests
that check what leaves a process in an error report.

DSN: ``fake.dsn`` (``http://key@127.0.0.1:<port>/1``); the SDK then POSTs to
``/api/1/envelope/``, compressed (gzip, or brotli when installed).
"""

import gzip
import json
import zlib
from dataclasses import dataclass, field

from apps.common.tests.fake_server import JsonHandler, LocalServer


@dataclass
class FakeSentry(LocalServer):
    envelopes: list[bytes] = field(default_factory=list)

    def __post_init__(self):
        self._serve(self._handler())

    @property
    def dsn(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://publickey@{host}:{port}/1"

    def raw(self) -> str:
        """Everything received, decompressed, as one text (to look for what must not be there)."""
        with self._lock:
            return "\n".join(envelope.decode("utf-8", errors="replace") for envelope in self.envelopes)

    def events(self) -> list[dict]:
        """The error events among the envelopes' items."""
        found = []
        with self._lock:
            envelopes = list(self.envelopes)
        for envelope in envelopes:
            lines = envelope.split(b"\n")
            # Envelope header, then pairs of item header and payload.
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if header.strip() and json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = self.body()
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                with fake._lock:
                    fake.envelopes.append(body)
                self.answer(200, {})

        return Handler
