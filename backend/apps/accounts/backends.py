"""Admin login by phone in any form the API accepts (0500000001, +966 50 000 0001, ...)."""

from django.contrib.auth.backends import ModelBackend

from apps.common.errors import AppError
from apps.common.phones import normalize_mobile


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            username = normalize_mobile(username or kwargs.get("phone") or "")
        except AppError:
            return None
        return super().authenticate(request, username=username, password=password)
