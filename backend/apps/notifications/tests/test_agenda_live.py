"""The staff member's day on a live stack whose clock libfaketime sets at 21:00 salon
time: `manage.py send_staff_agendas`, a Celery worker over Redis, PostgreSQL, the
fake WhatsApp and Twilio servers. Each busy staff member gets exactly one agenda
in their language on their channel, a free one nothing; run twice, and with two
beats running, nothing more.

Skipped without PostgreSQL, Redis and libfaketime (a failure under SALON_REQUIRE_SERVICES=1).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest

from apps.common.tests.factories import RIYADH, BookingFactory, ServiceFactory, StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.common.tests.fake_whatsapp import FakeWhatsApp
from apps.common.tests.live import run_manage, wait_for
from apps.notifications.models import Notification

pytestmark = pytest.mark.services


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=RIYADH)


def test_at_21_each_busy_staff_member_gets_one_agenda_and_a_rerun_sends_nothing(stack, fake_clock):
    haircut = ServiceFactory(salon__name="Main Salon", salon__name_ar="الصالون الرئيسي")
    sara = StaffFactory(
        salon=haircut.salon, services=[haircut], name="Sara", preferred_language="ar", preferred_channel="whatsapp"
    )
    omar = StaffFactory(salon=haircut.salon, services=[haircut], name="Omar", preferred_language="en")
    lina = StaffFactory(salon=haircut.salon, services=[haircut], name="Lina")  # nothing tomorrow
    day = date.today() + timedelta(days=3)
    tomorrow = day + timedelta(days=1)
    for staff, hour, name in ((sara, 15, "Noura Saleh"), (sara, 10, "Chris Lee"), (omar, 11, "Dana")):
        BookingFactory(service=haircut, staff=staff, customer=UserFactory(name=name), start=_at(tomorrow, hour))
    BookingFactory(service=haircut, staff=lina, customer=UserFactory(), start=_at(day + timedelta(days=2), 10))
    clock = fake_clock(_at(day, 20, 59, 30))
    with FakeWhatsApp() as meta, FakeTwilio() as twilio:
        env = stack.env(
            meta,
            twilio,
            clock.env(),
            NOTIFICATION_PROVIDER="whatsapp_cloud",
            NOTIFICATION_SMS_PROVIDER="twilio",
            WAITLIST_SCAN_INTERVAL_SECONDS="1",
        )
        stack.worker(env)

        assert run_manage(env, "send_staff_agendas").strip() == "Wrote 0 agenda(s) at 0 salon(s) (0 skipped)."
        clock.set(_at(day, 21, 0, 0))
        assert run_manage(env, "send_staff_agendas").strip() == "Wrote 2 agenda(s) at 1 salon(s) (0 skipped)."

        (whatsapp,) = wait_for(lambda: meta.messages_to(sara.phone), timeout=30, what="Sara's agenda")
        (sms,) = wait_for(lambda: twilio.sms_to(omar.phone), timeout=30, what="Omar's agenda")
        assert whatsapp["template"]["name"] == "staff_agenda_staff"
        assert whatsapp["template"]["language"]["code"] == "ar"
        assert [p["text"] for p in whatsapp["template"]["components"][0]["parameters"]] == [
            tomorrow.isoformat(),
            "الصالون الرئيسي",
            "2",
            "10:00 قص الشعر (Chris)، 15:00 قص الشعر (Noura)",
        ]
        assert sms.body == f"Your appointments on {tomorrow.isoformat()} at Main Salon (1): 11:00 Haircut (Dana)"

        # Run again, twice at once, and with two beats for a few seconds: nothing more.
        with ThreadPoolExecutor(max_workers=2) as pool:
            reruns = list(pool.map(lambda _: run_manage(env, "send_staff_agendas").strip(), range(2)))
        assert reruns == ["Wrote 0 agenda(s) at 1 salon(s) (0 skipped)."] * 2
        stack.beat(env)
        stack.beat(env)
        time.sleep(6)
        assert Notification.objects.filter(event="staff_agenda").count() == 2
        assert len(meta.messages_to(sara.phone)) == 1 and len(twilio.sms_to(omar.phone)) == 1
        assert meta.messages_to(lina.phone) == [] and twilio.sms_to(lina.phone) == []
