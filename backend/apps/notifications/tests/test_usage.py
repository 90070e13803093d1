"""What messages cost: segments and price on each attempt, `message_usage` per salon and
channel, and the same numbers in the admin for a manager's own salon."""

import io
from decimal import Decimal

import httpx
import pytest
import respx
from django.core.management import call_command
from django.db.models import Sum

from apps.common.tests.admin_fixtures import salon_world
from apps.common.tests.factories import StaffFactory, UserFactory
from apps.notifications.models import AttemptOutcome, DeliveryAttempt

pytestmark = pytest.mark.django_db

UNIFONIC_SEND = "https://unifonic.test/rest/SMS/messages"
WHATSAPP_SEND = "https://graph.test/v21.0/1098765/messages"


@pytest.fixture
def providers(settings):
    """SMS through Unifonic (which reports units and cost), WhatsApp through Meta (no price at send)."""
    settings.NOTIFICATION_PROVIDER = "whatsapp_cloud"
    settings.NOTIFICATION_SMS_PROVIDER = "unifonic"
    settings.UNIFONIC_APP_SID, settings.UNIFONIC_SENDER_ID = "sid", "SALON"
    settings.UNIFONIC_BASE_URL = "https://unifonic.test"
    settings.WHATSAPP_TOKEN, settings.WHATSAPP_PHONE_NUMBER_ID = "t", "1098765"
    settings.WHATSAPP_BASE_URL = "https://graph.test"
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        ids = iter(range(1000, 2000))

        def unifonic(request):
            units = 2 if "%D8" in request.content.decode() else 1  # Arabic texts: two units in this fake
            data = {
                "MessageID": next(ids),
                "NumberOfUnits": units,
                "Cost": f"{0.05 * units:.2f}",
                "CurrencyCode": "SAR",
            }
            return httpx.Response(200, json={"success": "true", "errorCode": "ER-00", "data": data})

        router.post(UNIFONIC_SEND).mock(side_effect=unifonic)
        router.post(WHATSAPP_SEND).mock(return_value=httpx.Response(200, json={"messages": [{"id": "wamid.X"}]}))
        yield router


def _book(api, customer, haircut, stylist, hour):
    start = f"2026-03-01T{hour:02d}:00:00+03:00"
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": start}
    )
    assert response.status_code == 201, response.json()


def test_each_sms_attempt_records_encoding_segments_and_the_providers_price(api, now, providers, haircut):
    english = UserFactory(preferred_language="en")
    arabic_staff = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="ar")

    _book(api, english, haircut, arabic_staff, 10)

    attempts = {a.notification.recipient_id: a for a in DeliveryAttempt.objects.select_related("notification")}
    customer_sms, staff_sms = attempts[english.pk], attempts[arabic_staff.pk]
    assert (customer_sms.encoding, customer_sms.segments) == ("gsm7", 1)
    assert (staff_sms.encoding, staff_sms.segments) == ("ucs2", 2)
    assert (staff_sms.provider_segments, staff_sms.price, staff_sms.price_unit) == (2, Decimal("0.1"), "SAR")


def test_message_usage_matches_the_attempts_per_salon_and_channel(api, now, providers, haircut):
    stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_language="ar")
    sms_customer = UserFactory(preferred_language="en")
    whatsapp_customer = UserFactory(preferred_language="ar", preferred_channel="whatsapp")
    for hour, customer in ((10, sms_customer), (11, whatsapp_customer), (12, sms_customer)):
        _book(api, customer, haircut, stylist, hour)
    out = io.StringIO()

    call_command("message_usage", "--month", "2026-02", stdout=out)

    sent = DeliveryAttempt.objects.filter(outcome=AttemptOutcome.SENT)
    sms = sent.filter(notification__channel="sms")
    whatsapp = sent.filter(notification__channel="whatsapp")
    assert sms.count() == 5 and whatsapp.count() == 1  # 3 to the stylist, 2 to the SMS customer; 1 WhatsApp
    segments = sms.aggregate(total=Sum("segments"))["total"]
    cost = sms.aggregate(total=Sum("price"))["total"]
    # Columns: salon (30 characters), channel, messages, segments, cost.
    lines = {line[31:40].strip(): (line[:30], line[41:].split()) for line in out.getvalue().splitlines()[1:-1]}
    assert set(lines) == {"sms", "whatsapp"}
    salon, numbers = lines["sms"]
    assert salon.startswith("Main Salon (#")
    assert numbers == [str(sms.count()), str(segments), f"{cost.normalize():f}", "SAR"]
    assert lines["whatsapp"][1] == ["1", "0", "—", "(+1", "unpriced)"]

    empty = io.StringIO()
    call_command("message_usage", "--month", "2026-01", stdout=empty)
    assert empty.getvalue().splitlines()[1].split() == ["total", "0", "0", "—"]  # the total line only


def test_a_month_is_the_salons_own_calendar_month(now, providers):
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from apps.common.tests.factories import BookingFactory, NotificationFactory
    from apps.notifications.selectors import message_usage

    riyadh = ZoneInfo("Asia/Riyadh")
    booking = BookingFactory()
    row = NotificationFactory(booking=booking, status="sent")
    # 2026-03-01 01:00 in Riyadh is still February in UTC.
    started = datetime(2026, 3, 1, 1, 0, tzinfo=riyadh)
    DeliveryAttempt.objects.create(
        notification=row, number=1, provider="console", started_at=started, finished_at=started + timedelta(seconds=1),
        outcome=AttemptOutcome.SENT, encoding="gsm7", segments=1,
    )  # fmt: skip

    assert message_usage(month=date(2026, 2, 1)) == []
    (march,) = message_usage(month=date(2026, 3, 1))
    assert (march.salon_id, march.messages, march.segments) == (booking.salon_id, 1, 1)


def test_managers_see_their_own_salons_usage_in_the_admin(client, now, providers):
    alpha = salon_world("Alpha", phone_prefix="+9665411000")
    beta = salon_world("Beta", phone_prefix="+9665422000")
    from datetime import timedelta

    from django.utils import timezone

    for world in (alpha, beta):
        DeliveryAttempt.objects.create(
            notification=world.notification, number=1, provider="unifonic", started_at=timezone.now(),
            finished_at=timezone.now() + timedelta(seconds=1), outcome=AttemptOutcome.SENT, encoding="ucs2",
            segments=3 if world is alpha else 7, price=Decimal("0.15"), price_unit="SAR",
        )  # fmt: skip
    client.force_login(alpha.manager)

    page = client.get("/admin/notifications/notification/usage/?month=2026-02")

    assert page.status_code == 200
    body = page.content.decode()
    assert "Alpha" in body and "Beta" not in body
    rows = page.context["rows"]
    assert [(row.salon_id, row.messages, row.segments) for row, _ in rows] == [(alpha.salon.pk, 1, 3)]
    assert "0.15 SAR" in body
    listing = client.get("/admin/notifications/notification/")
    assert 'id="message-usage"' in listing.content.decode()


def test_the_usage_page_is_for_managers_and_superusers_only(client, now, providers):
    alpha = salon_world("Alpha", phone_prefix="+9665411000")
    alpha.staff.is_staff = True
    alpha.staff.set_password("pw")
    alpha.staff.save()
    client.force_login(alpha.staff)

    response = client.get("/admin/notifications/notification/usage/")

    assert response.status_code in (302, 403)
