from rest_framework import serializers

from apps.accounts.models import User
from apps.salons.models import Salon, Service


class SalonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Salon
        fields = ["id", "name", "name_ar", "address", "time_zone"]


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "salon", "name", "name_ar", "duration_minutes", "price"]


class StaffSerializer(serializers.ModelSerializer):
    """What a customer may know about a staff member: never the phone number."""

    services = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name", "salon", "services"]

    def get_services(self, obj) -> list[int]:
        return [service.id for service in obj.services_performed.all()]
