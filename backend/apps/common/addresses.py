"""The client's address, one rule for every counter that is kept per address (login
code throttles, admin login lockouts).

It is the connecting address (REMOTE_ADDR) unless TRUSTED_PROXY_COUNT proxies stand
in front: then it is the entry that many places from the end of X-Forwarded-For,
the one the outermost trusted proxy wrote. A client can put anything before it,
never in its place, so a forged header cannot escape a per-address limit.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's IP address as text (None for a request without one, e.g. a test's)."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: the proxies are not what TRUSTED_PROXY_COUNT says. The
        # socket's address is at least not the client's to choose.
        return remote
