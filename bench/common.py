"""What every benchmark shares: a fresh PostgreSQL database and Django set up on it.

Import this first: it points DATABASE_URL at the benchmark database before
Django reads its settings.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/salon_bench")
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
RESULTS = ROOT / "bench" / "results"
os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salon_api.settings")


def recreate_database(database_url: str = BENCH_DATABASE_URL) -> None:
    import psycopg

    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fresh_django() -> None:
    """Recreate the benchmark database, set Django up on it and migrate."""
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def reminder_burst(*, bookings: int, staff_count: int = 100, salon_name: str = "Bench Salon"):
    """An empty database but for one salon whose ``bookings`` confirmed bookings (spread
    over ``staff_count`` staff members, three hours from now on) all have their 24-hour
    reminders due now: a reminder scan then writes ``2 * bookings`` messages at once.
    Returns the salon's service."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Role, User
    from apps.bookings.models import Booking, BookingStatus
    from apps.common.tests.factories import ServiceFactory
    from apps.notifications.models import Notification, SalonNotificationSettings

    Notification.objects.all().delete()
    Booking.objects.all().delete()
    User.objects.all().delete()
    haircut = ServiceFactory(salon__name=salon_name)
    SalonNotificationSettings.objects.create(salon=haircut.salon, reminder_offsets_minutes=[1440])
    staff = User.objects.bulk_create(
        User(phone=f"+9665{6000000 + i:08d}"[:13], name=f"Stylist {i}", role=Role.STAFF, salon=haircut.salon)
        for i in range(staff_count)
    )
    customers = User.objects.bulk_create(
        User(phone=f"+9665{7000000 + i:08d}"[:13], name=f"Customer {i}", role=Role.CUSTOMER) for i in range(bookings)
    )
    now = timezone.now()
    first = now + timedelta(hours=3)
    per_staff = -(-bookings // staff_count)
    assert per_staff * 20 < 21 * 60  # the last bookings still start within the day

    def at(i: int, extra: int = 0):
        return first + timedelta(minutes=20 * (i // staff_count) + extra)

    Booking.objects.bulk_create(
        (
            Booking(
                salon=haircut.salon,
                service=haircut,
                customer=customer,
                staff=staff[i % staff_count],
                start=at(i),
                end=at(i, 15),
                busy_until=at(i, 15),
                status=BookingStatus.CONFIRMED,
                reminders_from=now - timedelta(days=2),
                next_reminder_at=now,  # every booking's 24-hour reminders are due at this moment
            )
            for i, customer in enumerate(customers)
        ),
        batch_size=2000,
    )
    return haircut
