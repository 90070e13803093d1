from rest_framework import serializers

from apps.common.channels import Channel
from apps.notifications.models import ConsentSource


class ConsentStateSerializer(serializers.Serializer):
    """A person's consent to promotional messages on one channel, and the words to show them."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    granted = serializers.BooleanField(help_text="The latest decision; false until the person gives it.")
    at = serializers.DateTimeField(allow_null=True, help_text="When that decision was recorded (null: never).")
    source = serializers.ChoiceField(choices=[("", "none"), *ConsentSource.choices], allow_blank=True)
    wording = serializers.CharField(help_text="The exact words to show when asking, in the person's language.")
    version = serializers.CharField()


class ConsentListSerializer(serializers.Serializer):
    consents = ConsentStateSerializer(many=True)


class ConsentChangeSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    # Strict: a JSON true or false, not "yes" or 1.
    granted = serializers.BooleanField()

    def validate_granted(self, value):
        if not isinstance(self.initial_data.get("granted"), bool):
            raise serializers.ValidationError("Must be true or false.")
        return value
