"""Provider rate limits, held by every worker process together.

Providers throttle an account (Meta's Cloud API about 80 messages a second per
number, error 130429 above; Twilio per sender). ``PROVIDER_RATE_LIMITS`` gives
messages per second per provider; before each provider call a worker reserves
the next free moment of that provider account and waits for it. Moments are
spaced evenly (GCRA, no burst), at 95% of the limit, so that no second ever sees
more than the limit even with the network's jitter.

The schedule is shared: in Redis (one key per provider account, reserved by a
Lua script against Redis's own clock) when the broker is Redis; in a locked file
under SALON_RUN_DIR on the embedded broker, so the processes of `make run` share
it too. If the schedule cannot be read (Redis gone), sending goes on unpaced: the
provider's refusals are retried like any transient error.
"""

import fcntl
import hashlib
import logging
import os
import threading
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

HEADROOM = 0.95  # of the provider's limit: what the network's jitter may bunch stays under it

# Reserve the next moment: returns how many microseconds to wait for it.
RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local due = tonumber(redis.call('GET', KEYS[1]) or now)
if due < now then due = now end
redis.call('SET', KEYS[1], tostring(due + interval), 'PX', math.ceil((due - now + interval) / 1000) + 1000)
return due - now
"""

_lock = threading.Lock()
_client = None
_client_pid = None
_script = None


def provider_rate(provider: str) -> float | None:
    """Messages per second we allow ourselves on ``provider``, or None (no limit set)."""
    limit = settings.PROVIDER_RATE_LIMITS.get(provider)
    return float(limit) * HEADROOM if limit else None


def pace(provider: str, account: str) -> float:
    """Wait for this provider account's next free moment; returns the seconds waited."""
    rate = provider_rate(provider)
    if rate is None:
        return 0.0
    key = f"salon:pace:{provider}:{hashlib.sha256(account.encode()).hexdigest()[:16]}"
    interval_us = int(1_000_000 / rate)
    try:
        wait = _reserve_in_redis(key, interval_us) if _shared_in_redis() else _reserve_in_file(key, interval_us)
    except Exception as exc:  # the schedule is unreadable: send unpaced, refusals are retried
        logger.warning("Provider pacing unavailable (%s): sending unpaced", type(exc).__name__)
        return 0.0
    if wait > 0:
        time.sleep(wait)
    return wait


def _shared_in_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


def _reserve_in_redis(key: str, interval_us: int) -> float:
    global _client, _client_pid, _script
    import redis

    with _lock:
        if _client is None or _client_pid != os.getpid():  # a forked worker gets its own connection
            _client = redis.Redis.from_url(
                settings.CELERY_BROKER_URL,
                socket_connect_timeout=settings.BROKER_TIMEOUT_SECONDS,
                socket_timeout=settings.BROKER_TIMEOUT_SECONDS,
            )
            _script = _client.register_script(RESERVE)
            _client_pid = os.getpid()
        script = _script
    return int(script(keys=[key], args=[interval_us])) / 1_000_000


def _reserve_in_file(key: str, interval_us: int) -> float:
    folder = Path(settings.RUN_DIR) / "pacing"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / key.replace(":", "_")
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            now = time.time_ns() // 1000
            due = max(int(handle.read() or now), now)
            handle.seek(0)
            handle.truncate()
            handle.write(str(due + interval_us))
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return (due - now) / 1_000_000
