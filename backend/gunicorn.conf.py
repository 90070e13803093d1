"""gunicorn configuration for every place that serves the API: production, tests, bench, fuzz.

gunicorn reads this file from the working directory (backend/) by default;
`gunicorn -c gunicorn.conf.py salon_api.wsgi` says so explicitly.

Why it exists: gunicorn refuses some requests before Django sees them (a request
line over `limit_request_line`, too many or too large headers, a malformed
request line) and answers those with an HTML page. The API promises one JSON
error shape for every refusal, so the worker's error writer is replaced by one
that writes ``{"code", "message", "fields"}``, with gunicorn's own status.
"""

import json

# gunicorn's defaults, written out so that the limits a client can hit are visible here.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

ERROR_CODES = {
    400: "bad_request",
    403: "permission_denied",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}


def write_json_error(sock, status_int, reason, mesg):
    """Same signature as gunicorn.util.write_error; the body is the API's error shape."""
    from gunicorn.util import write_nonblock

    message = mesg or reason
    body = json.dumps(
        {"code": ERROR_CODES.get(status_int, "error"), "message": message, "fields": {}}, ensure_ascii=True
    ).encode("ascii")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    write_nonblock(sock, head + body)


def post_worker_init(worker):
    # Worker.handle_error looks the writer up on gunicorn.util at call time.
    from gunicorn import util

    util.write_error = write_json_error
