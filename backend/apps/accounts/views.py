from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.error_codes import AccountErrorCode
from apps.accounts.serializers import (
    LogoutSerializer,
    MeSerializer,
    OtpRequestAnswerSerializer,
    OtpRequestSerializer,
    OtpVerifySerializer,
    TokenPairSerializer,
)
from apps.accounts.services.otp import otp_request, otp_verify
from apps.accounts.services.users import user_update_profile
from apps.accounts.throttles import (
    OtpRequestPerAddressThrottle,
    OtpRequestPerPhoneThrottle,
    OtpVerifyPerAddressThrottle,
)
from apps.common.errors import InvalidInput
from apps.privacy.services import person_erase

OTP_SENT = "If this number can receive messages, a login code is on its way."


class OtpRequestView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [OtpRequestPerAddressThrottle, OtpRequestPerPhoneThrottle]

    @extend_schema(request=OtpRequestSerializer, responses={202: OtpRequestAnswerSerializer})
    def post(self, request):
        serializer = OtpRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        otp_request(phone=serializer.validated_data["phone"])
        return Response({"detail": OTP_SENT}, status=status.HTTP_202_ACCEPTED)


class OtpVerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [OtpVerifyPerAddressThrottle]

    @extend_schema(request=OtpVerifySerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        serializer = OtpVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = otp_verify(**serializer.validated_data)
        return Response({"access": tokens.access, "refresh": tokens.refresh, "user_created": tokens.created})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if str(token.get("user_id")) != str(request.user.pk):
                raise TokenError("Token belongs to another user.")
            token.blacklist()
        except TokenError:
            raise InvalidInput(
                "The refresh token is invalid or already used.", code=AccountErrorCode.TOKEN_NOT_VALID
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = MeSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        serializer.instance = user_update_profile(user=self.request.user, **serializer.validated_data)

    @extend_schema(
        responses={204: None},
        summary="Erase your data (customers)",
        description="Cancels your future bookings, removes your name and phone and the texts of your messages, "
        "and ends every login. Staff and managers: 403, the salon closes their accounts.",
    )
    def delete(self, request, *args, **kwargs):
        return super().delete(request, *args, **kwargs)

    def perform_destroy(self, instance):
        person_erase(user=instance)  # the account stays, anonymous (apps/privacy)
