from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import Language, User


# Schema only: the service normalises and checks numbers (spaces, dashes, other
# allowed countries too). Documenting the Saudi forms tells clients what to send
# and lets the fuzz generate numbers that reach the login logic.
@extend_schema_field({"type": "string", "maxLength": 32, "pattern": r"^(\+966|00966|966|0)?5[0-9]{8}$"})
class PhoneInputField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "minLength": 6, "maxLength": 6, "pattern": "^[0-9]{6}$"})
class OtpCodeField(serializers.CharField):
    pass


class OtpRequestSerializer(serializers.Serializer):
    phone = PhoneInputField(max_length=32, help_text="Mobile number, e.g. 0501234567 or +966501234567.")


class OtpRequestAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OtpVerifySerializer(serializers.Serializer):
    phone = PhoneInputField(max_length=32)
    code = OtpCodeField(max_length=6, min_length=6, help_text="The 6-digit code (Arabic-Indic digits too).")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user_created = serializers.BooleanField()


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "phone",
            "name",
            "preferred_language",
            "preferred_channel",
            "sms_opted_out",
            "whatsapp_opted_out",
            "role",
            "salon",
        ]
        read_only_fields = ["id", "phone", "role", "salon"]
        extra_kwargs = {"preferred_language": {"choices": Language.choices}}
