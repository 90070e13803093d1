from rest_framework import serializers

from apps.accounts.models import Language, User


class OtpRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="Mobile number, e.g. 0501234567 or +966501234567.")


class OtpRequestAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OtpVerifySerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    code = serializers.CharField(max_length=6, min_length=6)


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
