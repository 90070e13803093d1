"""The staff member's day: one agenda per busy staff member at the salon's agenda
time, in their language and order, nothing to a free one, once per day whatever
the number of scans; quiet hours; too late to send; the command."""

from datetime import datetime, time

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from apps.bookings.models import BookingStatus
from apps.common.tests.factories import RIYADH, BookingFactory, StaffFactory, UserFactory
from apps.notifications.agenda import agenda_scan
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.models import Notification, NotificationStatus, SalonNotificationSettings, SkipReason

pytestmark = pytest.mark.django_db


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=RIYADH)


@pytest.fixture
def day_ahead(now, haircut, stylist):
    """For 2026-03-01: Sara (Arabic) has three bookings (one cancelled), Omar (English) one, Lina none."""
    omar = StaffFactory(salon=haircut.salon, services=[haircut], name="Omar", preferred_language="en")
    lina = StaffFactory(salon=haircut.salon, services=[haircut], name="Lina")
    people = [UserFactory(name=name) for name in ("Noura Al-Qahtani", "Chris Lee", "Dana", "")]
    for customer, start in ((people[1], _at(1, 14)), (people[0], _at(1, 9, 30))):
        BookingFactory(service=haircut, staff=stylist, customer=customer, start=start)
    BookingFactory(service=haircut, staff=stylist, customer=people[2], start=_at(1, 11), status=BookingStatus.CANCELLED)
    BookingFactory(service=haircut, staff=omar, customer=people[3], start=_at(1, 12))
    BookingFactory(service=haircut, staff=lina, customer=people[2], start=_at(2, 10))  # the day after
    return stylist, omar, lina


def _agendas():
    return Notification.objects.filter(event="staff_agenda").order_by("recipient_id")


def test_at_21_each_busy_staff_member_gets_one_agenda_in_their_language(
    now, day_ahead, django_capture_on_commit_callbacks
):
    sara, omar, _lina = day_ahead
    now.move_to(datetime(2026, 2, 28, 20, 59, tzinfo=RIYADH))
    assert agenda_scan().written == 0
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))

    with django_capture_on_commit_callbacks(execute=True):
        result = agenda_scan()

    assert result.written == 2
    rows = {row.recipient: row for row in _agendas()}
    assert set(rows) == {sara, omar}  # nobody with an empty day
    sara_day = "09:30 قص الشعر (Noura)، 14:00 قص الشعر (Chris)"
    assert rows[sara].message == f"مواعيدك يوم 2026-03-01 في الصالون الرئيسي (2): {sara_day}"
    assert rows[omar].message == "Your appointments on 2026-03-01 at Main Salon (1): 12:00 Haircut (a customer)"
    assert {(row.status, row.message_class, row.agenda_date.isoformat()) for row in rows.values()} == {
        (NotificationStatus.SENT, "service", "2026-03-01")
    }
    assert rows[sara].booking.start == _at(1, 9, 30)  # filed under the day's first booking
    assert rows[sara].template == "staff_agenda_staff"
    assert rows[sara].variables == ["2026-03-01", "الصالون الرئيسي", "2", sara_day]


def test_a_rerun_or_a_second_beat_writes_nothing_more(now, day_ahead):
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))
    agenda_scan()

    again = agenda_scan()
    now.move_to(datetime(2026, 2, 28, 21, 30, tzinfo=RIYADH))
    later = agenda_scan()

    assert (again.written, later.written) == (0, 0)
    assert _agendas().count() == 2


def test_the_database_refuses_a_second_agenda_for_the_same_day(now, day_ahead):
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))
    agenda_scan()
    first = _agendas().first()

    twin = Notification(
        booking=first.booking, recipient=first.recipient, event="staff_agenda", channel="whatsapp",
        message="x", agenda_date=first.agenda_date,
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_the_salons_own_agenda_time_and_an_agenda_time_in_quiet_hours(now, day_ahead, haircut):
    SalonNotificationSettings.objects.create(
        salon=haircut.salon, staff_agenda_time=time(23, 30), quiet_hours_start=time(22), quiet_hours_end=time(8)
    )
    now.move_to(datetime(2026, 2, 28, 21, 59, tzinfo=RIYADH))
    assert agenda_scan().written == 0
    now.move_to(datetime(2026, 2, 28, 22, 0, tzinfo=RIYADH))  # when quiet hours begin, not at 23:30

    assert agenda_scan().written == 2


def test_a_scan_running_late_into_quiet_hours_records_the_agenda_unsent(now, day_ahead):
    now.move_to(datetime(2026, 2, 28, 22, 30, tzinfo=RIYADH))

    agenda_scan()

    assert {(row.status, row.reason) for row in _agendas()} == {(NotificationStatus.SKIPPED, SkipReason.QUIET_HOURS)}


def test_an_agenda_is_not_sent_once_its_day_began(now, day_ahead, settings):
    settings.NOTIFICATION_PROVIDER = "twilio"  # unconfigured: a provider call would fail
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))
    agenda_scan()
    row = _agendas().first()
    Notification.objects.filter(pk=row.pk).update(status="pending", claimed_until=None, reason="")
    now.move_to(datetime(2026, 3, 1, 0, 0, 1, tzinfo=RIYADH))

    notification_deliver(notification_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.reason) == (NotificationStatus.SKIPPED, SkipReason.DAY_BEGAN)


def test_an_opted_out_or_phoneless_staff_member_gets_a_skipped_row(now, day_ahead):
    sara, omar, _ = day_ahead
    sara.sms_opted_out = True
    sara.save()
    omar.phone = None
    omar.save()
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))

    agenda_scan()

    reasons = dict(_agendas().values_list("recipient_id", "reason"))
    assert reasons == {sara.pk: SkipReason.OPTED_OUT, omar.pk: SkipReason.NO_PHONE}


def test_the_command_runs_one_scan(now, day_ahead, capsys):
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))

    call_command("send_staff_agendas")
    call_command("send_staff_agendas")

    out = capsys.readouterr().out.splitlines()
    assert out == ["Wrote 2 agenda(s) at 1 salon(s) (0 skipped).", "Wrote 0 agenda(s) at 1 salon(s) (0 skipped)."]


def test_the_command_can_send_tomorrows_agendas_before_the_agenda_time(now, day_ahead, capsys):
    now.move_to(datetime(2026, 2, 28, 15, 0, tzinfo=RIYADH))

    call_command("send_staff_agendas")
    call_command("send_staff_agendas", "--now")
    call_command("send_staff_agendas", "--now")
    now.move_to(datetime(2026, 2, 28, 21, 0, tzinfo=RIYADH))
    call_command("send_staff_agendas")

    assert capsys.readouterr().out.splitlines() == [
        "Wrote 0 agenda(s) at 0 salon(s) (0 skipped).",
        "Wrote 2 agenda(s) at 1 salon(s) (0 skipped).",
        "Wrote 0 agenda(s) at 1 salon(s) (0 skipped).",
        "Wrote 0 agenda(s) at 1 salon(s) (0 skipped).",
    ]
