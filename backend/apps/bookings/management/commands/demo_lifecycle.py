"""`make demo`: walk one booking through its lifecycle over the real API, in-process.

A new customer logs in by code, books the demo Haircut, the staff member
confirms, the customer cancels. Every message the console provider writes is
printed as it happens, so the walk shows exactly what people would receive.
"""

import json
import logging
import re
import secrets
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.bookings.models import ACTIVE_STATUSES, Booking
from apps.salons.models import Salon
from salon_api.celery import app as celery_app

DEMO_STAFF_PHONE = "+966500000003"


class _Collect(logging.Handler):
    def __init__(self, out):
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.out = out

    def emit(self, record):
        line = record.getMessage()
        self.lines.append(line)
        self.out(f"    console provider: {line}")


class Command(BaseCommand):
    help = "Walk a booking through created -> confirmed -> cancelled over the API, printing every message."

    def add_arguments(self, parser):
        parser.add_argument(
            "--phone",
            default=None,
            help="The new customer's phone number (default: a fresh 0555xxxxxx number each run).",
        )

    def handle(self, *args, **options):
        salon = Salon.objects.filter(name="Main Salon").first()
        staff = User.objects.filter(phone=DEMO_STAFF_PHONE).first()
        if salon is None or staff is None:
            raise CommandError("Demo data missing: run `python manage.py load_demo` first.")
        # The walk is in-process: messages are sent here and now, not handed to a worker.
        celery_app.conf.task_always_eager = True
        collector = _Collect(self.stdout.write)
        messages = logging.getLogger("salon.messages")
        messages.addHandler(collector)
        try:
            phone = options["phone"] or f"0555{secrets.randbelow(10**6):06d}"
            self._walk(salon, staff, phone, collector)
        finally:
            messages.removeHandler(collector)

    def _call(self, client, method, path, body=None, token=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = getattr(client, method)(
            path, json.dumps(body) if body is not None else None, content_type="application/json", **headers
        )
        self.stdout.write(f"{method.upper()} {path} -> {response.status_code}")
        if response.status_code >= 400:
            raise CommandError(f"{path} answered {response.status_code}: {response.content.decode()}")
        return response.json() if response.content else None

    def _walk(self, salon, staff, phone, collector):
        client = Client(HTTP_HOST="127.0.0.1")
        self.stdout.write(self.style.MIGRATE_HEADING("1. A new customer asks for a login code"))
        self._call(client, "post", "/api/auth/otp/request/", {"phone": phone})
        code = re.search(r"\b(\d{6})\b", collector.lines[-1]).group(1)
        self.stdout.write(self.style.MIGRATE_HEADING(f"2. ...and logs in with it ({code})"))
        tokens = self._call(client, "post", "/api/auth/otp/verify/", {"phone": phone, "code": code})
        customer_token = tokens["access"]
        self._call(client, "patch", "/api/me/", {"name": "Demo Customer", "preferred_language": "en"}, customer_token)

        service = self._call(client, "get", f"/api/services/?salon={salon.pk}")["results"][0]
        stylist = self._call(client, "get", f"/api/staff/?salon={salon.pk}&service={service['id']}")["results"][0]
        start = self._next_free_start(client, customer_token, salon)

        self.stdout.write(self.style.MIGRATE_HEADING(f"3. The customer books {service['name']} at {start}"))
        booking = self._call(
            client,
            "post",
            "/api/bookings/",
            {"service": service["id"], "staff": stylist["id"], "start": start},
            customer_token,
        )
        url = f"/api/bookings/{booking['id']}/"

        self.stdout.write(self.style.MIGRATE_HEADING("4. The staff member confirms"))
        staff_token = str(RefreshToken.for_user(staff).access_token)
        self._call(client, "patch", url, {"status": "confirmed"}, staff_token)

        self.stdout.write(self.style.MIGRATE_HEADING("5. The customer cancels"))
        self._call(client, "patch", url, {"status": "cancelled"}, customer_token)
        self.stdout.write(self.style.SUCCESS(f"Done: booking #{booking['id']}, {len(collector.lines)} messages."))

    def _next_free_start(self, client, token, salon) -> str:
        # Tomorrow at 10:00 salon time, moved on by the hour until the demo staff member is free.
        local = timezone.localtime(timezone.now(), salon.tz) + timedelta(days=1)
        candidate = datetime(local.year, local.month, local.day, 10, 0, tzinfo=salon.tz)
        while Booking.objects.filter(
            staff__phone=DEMO_STAFF_PHONE,
            status__in=ACTIVE_STATUSES,
            start__lt=candidate + timedelta(hours=1),
            end__gt=candidate,
        ).exists():
            candidate += timedelta(hours=1)
            if candidate.hour >= 20:
                candidate = candidate.replace(hour=10) + timedelta(days=1)
        return candidate.isoformat()
