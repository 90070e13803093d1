"""manage.py privacy_affected --from --to: whose data was in rows created or changed in a window."""

import csv
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.accounts.models import OneTimeCode
from apps.common.tests.factories import RIYADH, UserFactory
from apps.notifications.models import InboundMessage
from apps.privacy.selectors import people_affected
from apps.privacy.tests.conftest import PHONE

pytestmark = pytest.mark.django_db


def _run(*args) -> list[dict]:
    out = StringIO()
    call_command("privacy_affected", *args, stdout=out, stderr=StringIO())
    return list(csv.DictReader(StringIO(out.getvalue())))


def test_the_people_in_rows_of_the_window_are_listed_with_their_tables(world, now):
    # The world: the visit on 18-20 February, today's bookings and messages (28 February).
    today = _run("--from", "2026-02-28", "--to", "2026-02-28")

    by_id = {row["user_id"]: row for row in today}
    customer, other, stylist = world.customer, world.other, world.stylist
    assert {str(customer.pk), str(other.pk), str(stylist.pk)} <= set(by_id)
    assert by_id[str(customer.pk)]["phone"] == PHONE and by_id[str(customer.pk)]["name"] == "Chris"
    assert int(by_id[str(customer.pk)]["bookings"]) == 1  # the future booking (the visit was last changed on the 20th)
    assert int(by_id[str(customer.pk)]["messages"]) == 1 and int(by_id[str(customer.pk)]["inbound_messages"]) == 1
    assert int(by_id[str(stylist.pk)]["bookings"]) == 2  # as the staff member of both of today's bookings

    visit = _run("--from", "2026-02-18T00:00", "--to", "2026-02-21T00:00")
    assert {row["user_id"] for row in visit} == {str(customer.pk), str(stylist.pk)}
    assert int(next(r for r in visit if r["user_id"] == str(customer.pk))["messages"]) == 3

    assert _run("--from", "2026-01-01", "--to", "2026-01-31") == []


def test_numbers_without_an_account_are_listed_by_number(db, now):
    moment = timezone.now()
    OneTimeCode.objects.create(phone="+966539870001", code_hash="x", expires_at=moment + timedelta(minutes=5))
    InboundMessage.objects.create(
        provider="whatsapp_cloud", provider_message_id="wamid.x", channel="whatsapp", phone="966539870002",
        text="Hi", outcome="stored",
    )  # fmt: skip
    known = UserFactory(phone="+966539870003")
    OneTimeCode.objects.create(phone=known.phone, code_hash="y", expires_at=moment + timedelta(minutes=5))

    found = people_affected(start=moment - timedelta(minutes=1), end=moment + timedelta(minutes=1))

    assert [(p.user_id, p.phone, p.rows) for p in found] == [
        (known.pk, "+966539870003", {"users": 1, "login_codes": 1}),
        (None, "+966539870001", {"login_codes": 1}),
        (None, "+966539870002", {"inbound_messages": 1}),
    ]


def test_a_time_without_an_offset_is_salon_time(db, now):
    person = UserFactory(date_joined=datetime(2026, 2, 27, 23, 30, tzinfo=RIYADH))

    rows = _run("--from", "2026-02-27T23:00", "--to", "2026-02-28T00:00")

    assert [row["user_id"] for row in rows] == [str(person.pk)]
    assert _run("--from", "2026-02-27T23:00+00:00", "--to", "2026-02-28T00:00+00:00") == []


@pytest.mark.parametrize(("start", "end"), [("yesterday", "2026-02-28"), ("2026-02-28", "2026-02-27")])
def test_a_bad_window_is_a_clear_error(db, start, end):
    with pytest.raises(CommandError):
        call_command("privacy_affected", "--from", start, "--to", end, stdout=StringIO(), stderr=StringIO())
