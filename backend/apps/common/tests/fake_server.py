"""What every fake provider server shares: a threaded HTTP server on a free
loopback port, started and stopped as a context manager, and a request handler
that answers JSON at once (no Nagle delay: a real server's headers and body leave
together; with Nagle the body waited 40 ms for the client's delayed ACK)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """Subclasses call ``_serve(handler_class)`` once they are built."""

    def _serve(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers allow
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender died mid-call (the worker-kill test does that)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
