"""Throttles for the login endpoints, counted in the shared cache (Redis in production)."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from apps.common.addresses import client_address
from apps.common.errors import AppError
from apps.common.phones import normalize_mobile


class _ClientAddressThrottle(SimpleRateThrottle):
    def get_ident(self, request):
        # The project's one rule for the client address (the admin's login lockout uses it too).
        return client_address(request) or ""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class OtpRequestPerAddressThrottle(_ClientAddressThrottle):
    scope = "otp_request_ip"


class OtpVerifyPerAddressThrottle(_ClientAddressThrottle):
    scope = "otp_verify_ip"


class OtpRequestPerPhoneThrottle(SimpleRateThrottle):
    scope = "otp_request_phone"

    def get_cache_key(self, request, view):
        try:
            phone = normalize_mobile(request.data.get("phone", "") if hasattr(request.data, "get") else "")
        except AppError:
            return None  # the view answers 400 for it; nothing to count
        ident = hashlib.sha256(phone.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
