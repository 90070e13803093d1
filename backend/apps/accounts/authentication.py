"""The API's bearer-token authentication."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.accounts.models import User
from apps.accounts.sql import user_by_id


class UserReadingJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, with the same checks. The user is still read
    from the database on every request, so a deactivated or deleted user is refused
    at once; only the statement is written once instead of built by the ORM on every
    request (that building was most of authentication's time)."""

    def __init__(self, *args, **kwargs):
        # simplejwt looks the user model up again for every request; ours is fixed.
        self.user_model = User

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc
        user = user_by_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user


class UserReadingJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema names it as simplejwt's own (bearer JWT)."""

    target_class = UserReadingJWTAuthentication
