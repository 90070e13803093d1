"""Shapes of the personal-data endpoints. The export's shape comes from its sections
(``selectors.export_schema``)."""

from rest_framework import serializers

from apps.privacy.models import REQUESTABLE_KIND_CHOICES, DataRequest, DataRequestKind


class DataRequestSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=DataRequestKind.choices, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = DataRequest
        fields = ["id", "kind", "details", "received_at", "due_at", "completed_at", "resolution", "is_overdue"]
        read_only_fields = fields


class DataRequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=REQUESTABLE_KIND_CHOICES,
        help_text="A correction of your data, or another request about it. Export and erasure have their own "
        "endpoints: GET /api/me/export/, DELETE /api/me/.",
    )
    details = serializers.CharField(max_length=2000, help_text="What should be corrected, or what you ask.")

    def to_representation(self, instance):
        return DataRequestSerializer(instance, context=self.context).data
