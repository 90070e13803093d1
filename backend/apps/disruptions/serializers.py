from rest_framework import serializers

from apps.common.fields import IdField, OffsetOptionalDateTimeField


class ClosureCreateSerializer(serializers.Serializer):
    salon = IdField()
    start_date = serializers.DateField(help_text="First closed day (salon local), YYYY-MM-DD.")
    end_date = serializers.DateField(help_text="Last closed day (inclusive).")
    reason = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")


class TimeOffCreateSerializer(serializers.Serializer):
    staff = IdField()
    start = OffsetOptionalDateTimeField(help_text="ISO 8601; without an offset it is read in the salon's time zone.")
    end = OffsetOptionalDateTimeField(help_text="ISO 8601; without an offset it is read in the salon's time zone.")
    reason = serializers.CharField(max_length=120, allow_blank=True, required=False, default="")


class AlternativeSerializer(serializers.Serializer):
    staff = serializers.IntegerField()
    staff_name = serializers.CharField()
    start = serializers.CharField(help_text="ISO 8601 in salon time.")


class AffectedBookingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = serializers.CharField(help_text="ISO 8601 in salon time.")
    service = serializers.IntegerField()
    service_name = serializers.CharField()
    staff = serializers.IntegerField()
    staff_name = serializers.CharField()
    customer_name = serializers.CharField()
    status = serializers.CharField()
    outcome = serializers.CharField(help_text="open: waiting for the customer; cancelled_by_salon: too close to wait.")
    cancel_at = serializers.CharField(help_text="When the salon cancels it if unanswered (ISO 8601, salon time).")
    alternatives = AlternativeSerializer(many=True, help_text="Offered to the customer, nearest first.")
    already_disrupted = serializers.BooleanField(help_text="Caught earlier by another closure or time off.")


class ClosureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    salon = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    reason = serializers.CharField()
    affected_bookings = AffectedBookingSerializer(many=True)


class TimeOffSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    staff = serializers.IntegerField()
    start = serializers.CharField(help_text="ISO 8601 in salon time.")
    end = serializers.CharField(help_text="ISO 8601 in salon time.")
    reason = serializers.CharField()
    affected_bookings = AffectedBookingSerializer(many=True)


def affected_answer(affected) -> list[dict]:
    """What an answer (and the admin's message) lists of each booking caught."""
    rows = []
    for item in affected:
        booking, disruption = item.booking, item.disruption
        tz = booking.salon.tz
        rows.append(
            {
                "id": booking.pk,
                "start": booking.start.astimezone(tz).isoformat(),
                "service": booking.service_id,
                "service_name": booking.service.name,
                "staff": booking.staff_id,
                "staff_name": booking.staff.name,
                "customer_name": booking.customer.name,
                "status": booking.status,
                "outcome": disruption.outcome,
                "cancel_at": disruption.cancel_at.astimezone(tz).isoformat(),
                "alternatives": [
                    {"staff": a.staff_id, "staff_name": a.staff_name, "start": a.start.astimezone(tz).isoformat()}
                    for a in item.alternatives
                ],
                "already_disrupted": item.already_disrupted,
            }
        )
    return rows
