from collections.abc import Mapping
from datetime import UTC
from zoneinfo import ZoneInfo

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
        return booking_answer(
            {
                "id": instance.pk,
                "salon_id": instance.salon_id,
                "salon__name": instance.salon.name,
                "salon__name_ar": instance.salon.name_ar,
                "salon__time_zone": instance.salon.time_zone,
                "service_id": instance.service_id,
                "service__name": instance.service.name,
                "service__name_ar": instance.service.name_ar,
                "customer_id": instance.customer_id,
                "customer__name": instance.customer.name,
                "staff_id": instance.staff_id,
                "staff__name": instance.staff.name,
                **{name: getattr(instance, name) for name in _OWN_COLUMNS},
            }
        )


_OWN_COLUMNS = (
    "start", "end", "status", "note", "customer_confirmed_at", "cancellation_reason", "created_at", "updated_at"
)  # fmt: skip


def booking_answer(row: Mapping) -> dict:
    """A booking as BookingSerializer declares it, from the columns of
    ``selectors.ANSWER_COLUMNS`` (a ``values()`` row of the list, or a loaded
    booking's). Written out rather than walked field by field: every list and
    answer goes through here, and DRF's generic walk (and building model instances
    for a page) was most of their cost. A test compares it with DRF's rendering."""
    tz = ZoneInfo(row["salon__time_zone"])
    return {
        "id": row["id"],
        "salon": row["salon_id"],
        "salon_name": row["salon__name"],
        "salon_name_ar": row["salon__name_ar"],
        "service": row["service_id"],
        "service_name": row["service__name"],
        "service_name_ar": row["service__name_ar"],
        "customer": row["customer_id"],
        "customer_name": row["customer__name"],
        "staff": row["staff_id"],
        "staff_name": row["staff__name"],
        "start": row["start"].astimezone(tz).isoformat(),
        "end": row["end"].astimezone(tz).isoformat(),
        "status": row["status"],
        "note": row["note"],
        "customer_confirmed_at": _utc_iso(row["customer_confirmed_at"]),
        "cancellation_reason": row["cancellation_reason"],
        "created_at": _utc_iso(row["created_at"]),
        "updated_at": _utc_iso(row["updated_at"]),
    }


def _utc_iso(moment):
    """What DRF's DateTimeField writes: ISO 8601 in UTC, "Z" for +00:00."""
    if moment is None:
        return None
    text = (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()
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
    reason = serializers.CharField(
        max_length=200,
        allow_blank=True,
        required=False,
        help_text="With status cancelled: why. One of customer_request, staff_unavailable, salon_closed, "
        "staff_declined, duplicate (named in each reader's language), or the words to say.",
    )

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
