from rest_framework import serializers

from apps.bookings.answer import FIELDS, booking_answer, columns_of
from apps.bookings.models import Booking, BookingStatus
from apps.common.fields import IdField, OffsetOptionalDateTimeField


class _BookingAnswerSerializer(serializers.ModelSerializer):
    def to_representation(self, instance):
        return booking_answer(columns_of(instance))


class _Meta:
    model = Booking
    fields = [field.name for field in FIELDS]
    read_only_fields = fields


# A booking as clients see it (answer.FIELDS): times in the salon's time zone, with
# offset, and the names a reader needs (loaded with the booking: no query per row).
# Made from the declaration; a related column ("salon__name") is a read-only text field.
BookingSerializer = type(
    "BookingSerializer",
    (_BookingAnswerSerializer,),
    {
        "__doc__": "A booking as clients see it; times in the salon's time zone, with offset, and\n"
        "the names a reader needs.",
        "__module__": __name__,
        "Meta": _Meta,
        **{
            field.name: serializers.CharField(source=field.column.replace("__", "."), read_only=True)
            for field in FIELDS
            if "__" in field.column
        },
    },
)


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
