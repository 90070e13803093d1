from datetime import UTC

from rest_framework import serializers

from apps.bookings.models import Booking, BookingStatus
from apps.common.fields import IdField, OffsetOptionalDateTimeField


class BookingSerializer(serializers.ModelSerializer):
    """A booking as clients see it; times in the salon's time zone, with offset, and
    the names a reader needs (loaded with the booking: no query per row)."""

    salon_name = serializers.CharField(source="salon.name", read_only=True)
    salon_name_ar = serializers.CharField(source="salon.name_ar", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    service_name_ar = serializers.CharField(source="service.name_ar", read_only=True)
    staff_name = serializers.CharField(source="staff.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Booking
        fields = [
            "id",
            "salon",
            "salon_name",
            "salon_name_ar",
            "service",
            "service_name",
            "service_name_ar",
            "customer",
            "customer_name",
            "staff",
            "staff_name",
            "start",
            "end",
            "status",
            "note",
            "customer_confirmed_at",
            "cancellation_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        # Written out rather than walked field by field: every booking list and
        # answer goes through here, and DRF's generic walk was most of their cost.
        # The fields (and the schema) are the declared ones above; a test compares
        # this with DRF's own rendering.
        tz = instance.salon.tz
        return {
            "id": instance.pk,
            "salon": instance.salon_id,
            "salon_name": instance.salon.name,
            "salon_name_ar": instance.salon.name_ar,
            "service": instance.service_id,
            "service_name": instance.service.name,
            "service_name_ar": instance.service.name_ar,
            "customer": instance.customer_id,
            "customer_name": instance.customer.name,
            "staff": instance.staff_id,
            "staff_name": instance.staff.name,
            "start": instance.start.astimezone(tz).isoformat(),
            "end": instance.end.astimezone(tz).isoformat(),
            "status": instance.status,
            "note": instance.note,
            "customer_confirmed_at": _utc_iso(instance.customer_confirmed_at),
            "cancellation_reason": instance.cancellation_reason,
            "created_at": _utc_iso(instance.created_at),
            "updated_at": _utc_iso(instance.updated_at),
        }


def _utc_iso(moment):
    """What DRF's DateTimeField writes: ISO 8601 in UTC, "Z" for +00:00."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _BookingInputSerializer(serializers.Serializer):
    def to_representation(self, instance):
        return BookingSerializer(instance, context=self.context).data


class BookingCreateSerializer(_BookingInputSerializer):
    service = IdField()
    staff = IdField()
    start = OffsetOptionalDateTimeField(help_text="ISO 8601; without an offset it is read in the salon's time zone.")
    note = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    customer = IdField(required=False, help_text="Managers: the customer the booking is for. Customers: omit.")


class BookingUpdateSerializer(_BookingInputSerializer):
    status = serializers.ChoiceField(choices=BookingStatus.choices, required=False)
    start = OffsetOptionalDateTimeField(required=False)
    note = serializers.CharField(max_length=500, allow_blank=True, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one of: status, start, note.")
        return attrs


class AvailabilityQuerySerializer(serializers.Serializer):
    salon = IdField()
    service = IdField()
    date = serializers.DateField(help_text="The local date at the salon, YYYY-MM-DD.")
    staff = IdField(required=False)


class StaffAvailabilitySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="staff.pk")
    name = serializers.CharField(source="staff.name")
    slots = serializers.ListField(child=serializers.CharField(), help_text="Start times, ISO 8601 in salon time.")


class AvailabilitySerializer(serializers.Serializer):
    salon = serializers.IntegerField()
    service = serializers.IntegerField()
    date = serializers.DateField()
    time_zone = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    step_minutes = serializers.IntegerField()
    staff = StaffAvailabilitySerializer(many=True)
