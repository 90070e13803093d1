from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.fields import IdField, OffsetOptionalDateTimeField
from apps.waitlist.models import WaitlistEntry, WaitlistStatus


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "09:00",
        "description": "Salon local time, HH:MM (no offset: it is the salon's wall clock).",
    }
)
class SalonTimeField(serializers.TimeField):
    """A salon wall-clock time, written HH:MM. Not OpenAPI's ``time`` format, which
    is RFC 3339's and needs an offset this time has not got."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class WaitlistOfferSerializer(serializers.Serializer):
    """An offered time still open: claim it with ``POST /api/waitlist/{id}/claim/`` and its ``start``."""

    start = serializers.CharField(help_text="ISO 8601 in salon time.")
    staff = serializers.IntegerField()
    staff_name = serializers.CharField()
    expires_at = serializers.DateTimeField()


class WaitlistEntrySerializer(serializers.ModelSerializer):
    salon_name = serializers.CharField(source="salon.name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    staff_name = serializers.SerializerMethodField()
    window_start = SalonTimeField(read_only=True)
    window_end = SalonTimeField(read_only=True)
    offers = serializers.SerializerMethodField()

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "salon",
            "salon_name",
            "service",
            "service_name",
            "staff",
            "staff_name",
            "date",
            "window_start",
            "window_end",
            "status",
            "booking",
            "offers",
            "created_at",
        ]
        read_only_fields = fields

    def get_staff_name(self, entry) -> str | None:
        return entry.staff.name if entry.staff_id else None

    @extend_schema_field(WaitlistOfferSerializer(many=True))
    def get_offers(self, entry) -> list[dict]:
        if entry.status != WaitlistStatus.OFFERED:
            return []
        now = timezone.now()
        tz = entry.salon.tz
        return [
            {
                "start": offer.start.astimezone(tz).isoformat(),
                "staff": offer.staff_id,
                "staff_name": offer.staff.name,
                "expires_at": serializers.DateTimeField().to_representation(offer.expires_at),
            }
            for offer in entry.offers.all()
            if offer.is_live(now)
        ]


class WaitlistEntryCreateSerializer(serializers.Serializer):
    service = IdField()
    staff = IdField(required=False, allow_null=True, help_text="Omit (or null) for anyone who performs the service.")
    date = serializers.DateField(help_text="The local date at the salon, YYYY-MM-DD.")
    window_start = SalonTimeField(help_text="Salon local time: the appointment starts at or after it.")
    window_end = SalonTimeField(help_text="Salon local time: the appointment ends at or before it.")

    def to_representation(self, instance):
        return WaitlistEntrySerializer(instance, context=self.context).data


class WaitlistClaimSerializer(serializers.Serializer):
    start = OffsetOptionalDateTimeField(help_text="The offered start (ISO 8601; without an offset, salon time).")
