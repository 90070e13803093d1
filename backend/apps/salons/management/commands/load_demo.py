"""Load the demo salon (SPEC.md section 6). Safe to run any number of times."""

from datetime import time
from decimal import Decimal

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Language, Role, User
from apps.salons.models import Salon, Service, WorkingHours

# What the "Salon managers" group may do in the admin, always within their own
# salon (apps/common/admin.SalonScopedAdmin): run bookings, read messages, keep
# services, hours, closures, time off and message settings, and their staff.
MANAGER_PERMISSIONS = [
    "view_booking",
    "change_booking",
    "view_notification",
    "view_inboundmessage",
    "view_whatsapptemplate",
    "view_marketingconsent",
    "add_marketingconsent",
    "view_salon",
    "change_salon",
    "view_service",
    "add_service",
    "change_service",
    "view_workinghours",
    "add_workinghours",
    "change_workinghours",
    "delete_workinghours",
    "view_salonclosure",
    "add_salonclosure",
    "change_salonclosure",
    "delete_salonclosure",
    "view_stafftimeoff",
    "add_stafftimeoff",
    "change_stafftimeoff",
    "delete_stafftimeoff",
    "view_salonnotificationsettings",
    "add_salonnotificationsettings",
    "change_salonnotificationsettings",
    "view_user",
    "add_user",
    "change_user",
    "view_waitlistentry",
    "change_waitlistentry",
    "view_waitlistoffer",
    "view_bookingdisruption",
]


class Command(BaseCommand):
    help = "Create or update the demo data: Main Salon, Haircut, a manager, a staff member and a customer."

    def add_arguments(self, parser):
        parser.add_argument(
            "--manager-password",
            default="salon-demo",
            help="Password of the demo manager for the Django admin (phone 0500000001).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        salon, _ = Salon.objects.update_or_create(
            name="Main Salon",
            defaults={"name_ar": "الصالون الرئيسي", "address": "King Fahd Road, Riyadh", "time_zone": "Asia/Riyadh"},
        )
        haircut, _ = Service.objects.update_or_create(
            salon=salon,
            name="Haircut",
            defaults={"name_ar": "قص الشعر", "duration_minutes": 30, "price": Decimal("80.00"), "is_active": True},
        )
        managers, _ = Group.objects.get_or_create(name="Salon managers")
        managers.permissions.set(Permission.objects.filter(codename__in=MANAGER_PERMISSIONS))

        manager = self._user(
            "+966500000001", name="Mona Manager", role=Role.MANAGER, salon=salon, language=Language.ENGLISH
        )
        manager.is_staff = True
        manager.set_password(options["manager_password"])
        manager.save()
        manager.groups.add(managers)

        customer = self._user("+966500000002", name="Chris Customer", role=Role.CUSTOMER, language=Language.ENGLISH)
        staff = self._user("+966500000003", name="سارة", role=Role.STAFF, salon=salon, language=Language.ARABIC)
        haircut.staff_members.add(staff)
        for weekday in range(7):
            WorkingHours.objects.get_or_create(
                staff=staff, weekday=weekday, start_time=time(9, 0), end_time=time(21, 0)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {salon.name} (id {salon.pk}), {haircut.name} (id {haircut.pk}), "
                f"manager {manager.phone}, customer {customer.phone}, staff {staff.phone} (id {staff.pk})."
            )
        )

    @staticmethod
    def _user(phone: str, *, name: str, role: str, language: str, salon=None) -> User:
        user, _ = User.objects.update_or_create(
            phone=phone, defaults={"name": name, "role": role, "salon": salon, "preferred_language": language}
        )
        return user
