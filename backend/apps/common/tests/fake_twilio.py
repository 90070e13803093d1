"""A local HTTP server that speaks Twilio's Messages API (see shared/providers.md).

Used where the sender is another process (a Celery worker, gunicorn), so the
network can only be faked at the HTTP layer. It checks what a real Twilio
checks (path, Basic auth, form fields), answers with Twilio's real success and
error bodies, and records every request it received and how it answered.
"""

import base64
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx

from apps.common.tests.fake_server import JsonHandler, LocalServer


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict
    delay: float = 0.0


@dataclass
class Received:
    to: str
    sender: str
    body: str
    arrived_at: float  # time.time()
    attempt: int  # how many times this (to, body) arrived, this one included
    replied_at: float = 0.0
    status: int = 0
    sid: str = ""
    content_sid: str = ""  # a WhatsApp content template instead of a Body
    content_variables: dict = field(default_factory=dict)


def ok(delay: float = 0.0) -> Callable[[Received], Reply]:
    def behaviour(received: Received) -> Reply:
        return Reply(201, {}, delay)

    return behaviour


def transient_error(status: int = 503) -> Reply:
    if status == 429:
        return Reply(429, {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429})
    return Reply(status, {"code": 20500, "message": "Internal Server Error", "more_info": "", "status": status})


def permanent_error() -> Reply:
    return Reply(
        400,
        {
            "code": 21211,
            "message": "The 'To' number is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
    )


def rate_limited(per_second: int, delay: float = 0.0) -> Callable[[Received], Reply]:
    """A provider account that takes ``per_second`` messages a second and refuses the
    rest with 429 / 20429, as Twilio and Meta throttle: a token bucket of one second's
    messages, refilled continuously. A sender that keeps under the rate is never
    refused; one that sends faster is, within a second."""
    state = {"tokens": float(per_second), "at": time.monotonic()}
    lock = threading.Lock()

    def behaviour(received: Received) -> Reply:
        with lock:
            now = time.monotonic()
            state["tokens"] = min(float(per_second), state["tokens"] + (now - state["at"]) * per_second)
            state["at"] = now
            if state["tokens"] < 1:
                return transient_error(429)
            state["tokens"] -= 1
        return Reply(201, {}, delay)

    return behaviour


def fail_first(times: int, status: int = 503, delay: float = 0.0) -> Callable[[Received], Reply]:
    """Each distinct message fails ``times`` times with a transient error, then succeeds."""

    def behaviour(received: Received) -> Reply:
        if received.attempt <= times:
            return transient_error(status)
        return Reply(201, {}, delay)

    return behaviour


def random_failures(
    *, transient_rate: float, permanent_rate: float, seed: int = 7, delay: float = 0.0
) -> Callable[[Received], Reply]:
    """Every call fails at random: transiently (503 or 429/20429) or permanently (400/21211)."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def behaviour(received: Received) -> Reply:
        with lock:
            roll = rng.random()
            pick = rng.random()
        if roll < permanent_rate:
            return permanent_error()
        if roll < permanent_rate + transient_rate:
            return transient_error(429 if pick < 0.5 else 503)
        return Reply(201, {}, delay)

    return behaviour


def flaky_for(seconds: float, *, failure_rate: float = 0.5, seed: int = 7) -> Callable[[Received], Reply]:
    """For ``seconds`` after the first call, each call fails transiently (503 or
    429/20429) with probability ``failure_rate``; after that every call succeeds."""
    rng = random.Random(seed)
    lock = threading.Lock()
    first_call: list[float] = []

    def behaviour(received: Received) -> Reply:
        with lock:
            first_call[:] = first_call or [time.monotonic()]
            roll, pick = rng.random(), rng.random()
        if time.monotonic() - first_call[0] < seconds and roll < failure_rate:
            return transient_error(429 if pick < 0.5 else 503)
        return Reply(201, {})

    return behaviour


@dataclass
class FakeTwilio(LocalServer):
    account_sid: str = "ACfake0000000000000000000000000000"
    auth_token: str = "fake-auth-token"
    behaviour: Callable[[Received], Reply] = field(default_factory=ok)
    received: list[Received] = field(default_factory=list)
    segments: int = 1  # what it answers as num_segments

    def __post_init__(self):
        self._seen: Counter = Counter()
        self._serve(self._handler())

    def env(self) -> dict[str, str]:
        """Settings that point the ``twilio`` adapter of another process here."""
        return {
            "TWILIO_BASE_URL": self.url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM": "SALON",
        }

    # --- what the tests read -------------------------------------------------
    def successes(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def calls(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def post_inbound(self, url: str, params: dict[str, str]) -> httpx.Response:
        """POST an incoming message to our webhook as Twilio does: a form, signed
        with ``X-Twilio-Signature`` (the official validator's algorithm)."""
        from twilio.request_validator import RequestValidator

        params = {"AccountSid": self.account_sid, "MessageSid": f"SM{uuid.uuid4().hex}", **params}
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)

    def post_status(self, url: str, *, sid: str, status: str, error_code: str = "") -> httpx.Response:
        """A status callback for one message, as Twilio posts it (form, signed)."""
        from twilio.request_validator import RequestValidator

        params = {"AccountSid": self.account_sid, "MessageSid": sid, "SmsSid": sid, "MessageStatus": status}
        if error_code:
            params["ErrorCode"] = error_code
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)

    def sms_to(self, phone: str) -> list[Received]:
        return [r for r in self.successes() if r.to == phone]

    def whatsapp_to(self, phone: str) -> list[Received]:
        return [r for r in self.calls() if r.to == f"whatsapp:{phone}"]

    def delivered_more_than_once(self) -> dict[tuple[str, str], int]:
        counts = Counter((r.to, r.body) for r in self.successes())
        return {key: n for key, n in counts.items() if n > 1}

    # --- the server ------------------------------------------------------------
    def _record(self, to: str, sender: str, body: str) -> Received:
        with self._lock:
            self._seen[(to, body)] += 1
            received = Received(to=to, sender=sender, body=body, arrived_at=time.time(), attempt=self._seen[(to, body)])
            self.received.append(received)
            return received

    def _handler(self):
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                expected_path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
                if self.path != expected_path:
                    return self.answer(404, {"code": 20404, "message": "The requested resource was not found"})
                credentials = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {credentials}":
                    return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    return self.answer(400, {"code": 20001, "message": "Expected a form body", "status": 400})
                if not form.get("To") or not form.get("From") or not (form.get("Body") or form.get("ContentSid")):
                    return self.answer(400, {"code": 21604, "message": "A 'To', 'From' and 'Body' are required"})
                received = fake._record(form["To"], form["From"], form.get("Body") or form["ContentSid"])
                received.content_sid = form.get("ContentSid", "")
                received.content_variables = json.loads(form.get("ContentVariables") or "{}")
                reply = fake.behaviour(received)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if 200 <= reply.status < 300:
                    received.sid = f"SM{len(fake.received):032d}"
                    body = {
                        "sid": received.sid,
                        "status": "queued",
                        "to": received.to,
                        "from": received.sender,
                        "body": received.body,
                        "error_code": None,
                        "error_message": None,
                        # As Twilio answers a create: segments known, price not billed yet.
                        "num_segments": str(fake.segments),
                        "price": None,
                        "price_unit": None,
                    }
                received.status = reply.status
                received.replied_at = time.time()
                return self.answer(reply.status, body)

        return Handler
