"""factory_boy factories for the whole suite."""

from datetime import time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from apps.accounts.models import Language, Role, User
from apps.bookings.models import Booking, BookingStatus
from apps.salons.models import Salon, Service, WorkingHours

RIYADH = ZoneInfo("Asia/Riyadh")


class SalonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salon

    name = factory.Sequence(lambda n: f"Salon {n}")
    name_ar = factory.Sequence(lambda n: f"صالون {n}")
    time_zone = "Asia/Riyadh"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    salon = factory.SubFactory(SalonFactory)
    name = "Haircut"
    name_ar = "قص الشعر"
    duration_minutes = 30
    price = Decimal("80.00")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+96655{n:07d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    preferred_language = Language.ENGLISH
    role = Role.CUSTOMER


class StaffFactory(UserFactory):
    """A staff member with working hours every day 09:00-21:00 (salon time)."""

    class Meta:
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Stylist {n}")
    role = Role.STAFF
    salon = factory.SubFactory(SalonFactory)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        for start, end in [(time(9), time(21))] if extracted is None else extracted:
            for weekday in range(7):
                WorkingHours.objects.create(staff=self, weekday=weekday, start_time=start, end_time=end)

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            for service in extracted:
                service.staff_members.add(self)


class ManagerFactory(UserFactory):
    name = factory.Sequence(lambda n: f"Manager {n}")
    role = Role.MANAGER
    salon = factory.SubFactory(SalonFactory)


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row made directly, for tests that need one to act on."""

    class Meta:
        model = Booking

    service = factory.SubFactory(ServiceFactory)
    salon = factory.SelfAttribute("service.salon")
    customer = factory.SubFactory(UserFactory)
    staff = factory.SubFactory(StaffFactory, salon=factory.SelfAttribute("..salon"))
    # Tomorrow at 10:00 Riyadh time (inside the factories' working hours).
    start = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=1))
        .astimezone(RIYADH)
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.service.duration_minutes))
    busy_until = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=o.service.buffer_minutes))
    status = BookingStatus.PENDING


class NotificationFactory(factory.django.DjangoModelFactory):
    """A booking_created SMS to the booking's customer, pending, unless told otherwise."""

    class Meta:
        model = "notifications.Notification"

    booking = factory.SubFactory(BookingFactory)
    recipient = factory.SelfAttribute("booking.customer")
    phone = factory.SelfAttribute("recipient.phone")
    event = "booking_created"
    channel = "sms"
    provider = "twilio"
    message = "text"
