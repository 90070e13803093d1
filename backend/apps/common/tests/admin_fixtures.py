"""Two salons, each with a manager in the "Salon managers" group, staff, a customer,
bookings, messages and settings: what the admin tests act on."""

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from apps.accounts.models import OneTimeCode, Role, User
from apps.bookings.models import Booking
from apps.common.tests.factories import BookingFactory, NotificationFactory, ServiceFactory, StaffFactory, UserFactory
from apps.notifications.models import InboundMessage, Notification, SalonNotificationSettings
from apps.salons.management.commands.load_demo import MANAGER_PERMISSIONS
from apps.salons.models import Salon, SalonClosure, Service, StaffTimeOff, WorkingHours


def managers_group() -> Group:
    group, _ = Group.objects.get_or_create(name="Salon managers")
    group.permissions.set(Permission.objects.filter(codename__in=MANAGER_PERMISSIONS))
    return group


@dataclass
class SalonWorld:
    salon: Salon
    service: Service
    manager: User
    staff: User
    customer: User
    booking: Booking
    notification: Notification
    failed: Notification
    inbound: InboundMessage
    hours: WorkingHours
    closure: SalonClosure
    time_off: StaffTimeOff
    settings: SalonNotificationSettings


def salon_world(name: str, *, phone_prefix: str) -> SalonWorld:
    service = ServiceFactory(salon__name=name, salon__name_ar=f"صالون {name}")
    salon = service.salon
    manager = UserFactory(
        phone=f"{phone_prefix}01", name=f"Manager {name}", role=Role.MANAGER, salon=salon, is_staff=True
    )
    manager.set_password("pw-for-tests-only")
    manager.save()
    manager.groups.add(managers_group())
    staff = StaffFactory(phone=f"{phone_prefix}02", name=f"Stylist {name}", salon=salon, services=[service])
    customer = UserFactory(phone=f"{phone_prefix}03", name=f"Customer {name}")
    booking = BookingFactory(service=service, staff=staff, customer=customer)
    notification = NotificationFactory(booking=booking, status="sent", phone=customer.phone)
    failed = NotificationFactory(
        booking=booking, recipient=staff, phone=staff.phone, provider="console", status="failed", reason="[503] down"
    )
    inbound = InboundMessage.objects.create(
        provider="whatsapp_cloud",
        provider_message_id=f"wamid.{phone_prefix}",
        channel="whatsapp",
        phone=customer.phone,
        text=f"A question for {name}",
        user=customer,
        booking=booking,
        salon=salon,
        outcome="stored",
    )
    return SalonWorld(
        salon=salon,
        service=service,
        manager=manager,
        staff=staff,
        customer=customer,
        booking=booking,
        notification=notification,
        failed=failed,
        inbound=inbound,
        hours=WorkingHours.objects.filter(staff=staff).first(),
        closure=SalonClosure.objects.create(
            salon=salon, start_date=date(2026, 3, 30), end_date=date(2026, 4, 2), reason="Eid"
        ),
        time_off=StaffTimeOff.objects.create(
            staff=staff, start=timezone.now() + timedelta(days=3), end=timezone.now() + timedelta(days=4)
        ),
        settings=SalonNotificationSettings.objects.create(salon=salon, quiet_hours_start=time(23)),
    )


def a_login_code() -> OneTimeCode:
    return OneTimeCode.objects.create(phone="+966559990000", code_hash="x" * 64, expires_at=timezone.now())
