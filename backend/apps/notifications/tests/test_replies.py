"""Two-way WhatsApp: customers keep or cancel, staff confirm or decline, from the message.

The fake WhatsApp server receives our template messages (with their buttons) and
plays the person: it posts Meta's signed webhook payloads (button reply,
interactive reply, text) to the API served by a live server. The fake Twilio does
the same for Twilio's Content API quick replies.
"""

import pytest
from django.db.models import F
from django.utils import timezone

from apps.bookings.models import Booking, BookingStatus
from apps.common.tests.factories import StaffFactory, UserFactory
from apps.common.tests.fake_twilio import FakeTwilio
from apps.notifications.models import InboundMessage, InboundOutcome, Notification, NotificationStatus
from apps.notifications.replies import read_reply_token, reply_token

pytestmark = pytest.mark.django_db(transaction=True)

START = "2026-03-01T10:00:00+03:00"


@pytest.fixture
def customer(db):
    return UserFactory(name="Chris", preferred_language="en", preferred_channel="whatsapp")


@pytest.fixture
def stylist(haircut):
    return StaffFactory(
        salon=haircut.salon, services=[haircut], name="Sara", preferred_language="ar", preferred_channel="whatsapp"
    )


def _book(api, customer, haircut, stylist) -> Booking:
    response = api.as_user(customer).post(
        "/api/bookings/", {"service": haircut.pk, "staff": stylist.pk, "start": START}
    )
    assert response.status_code == 201, response.json()
    return Booking.objects.get(pk=response.json()["id"])


def _button(meta, person, action: str) -> tuple[str, str]:
    """The payload of ``action``'s button in the last template sent to ``person``, and its message id."""
    message = meta.last_template_to(person.phone)
    payloads = meta.button_payloads(message)
    return next(p for p in payloads if read_reply_token(p).action == action), message["id"]


def _rows(booking, event):
    return Notification.objects.filter(booking=booking, event=event)


# 1. ------------------------------------------------------------------------------------------
def test_a_customers_cancel_button_cancels_and_tells_both_and_redeliveries_change_nothing(
    api, now, meta, webhook, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    payload, message_id = _button(meta, customer, "cancel")
    reply = meta.press_button(sender=customer.phone, payload=payload, label="Cancel", replying_to=message_id)

    answers = [meta.deliver(webhook, reply) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    cancelled = _rows(booking, "booking_cancelled")
    assert sorted(cancelled.values_list("recipient_id", flat=True)) == sorted([customer.pk, stylist.pk])
    assert set(cancelled.values_list("status", flat=True)) == {NotificationStatus.SENT}
    to_customer = [m for m in meta.messages_to(customer.phone) if m["type"] == "template"]
    assert [m["template"]["name"] for m in to_customer] == ["booking_created_customer", "booking_cancelled_customer"]
    assert meta.texts_to(customer.phone) == []  # the cancellation itself is the answer
    (inbound,) = InboundMessage.objects.all()
    assert (inbound.action, inbound.outcome, inbound.user, inbound.booking) == ("cancel", "done", customer, booking)


# 2. ------------------------------------------------------------------------------------------
def test_a_staff_members_confirm_button_confirms(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, message_id = _button(meta, stylist, "confirm")

    response = meta.deliver(
        webhook, meta.press_button(sender=stylist.phone, payload=payload, label="تأكيد", replying_to=message_id)
    )

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert _rows(booking, "booking_confirmed").count() == 2


def test_a_staff_members_decline_cancels_with_a_reason(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, stylist, "decline")

    meta.deliver(webhook, meta.press_button(sender=stylist.phone, payload=payload, label="رفض"))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancellation_reason == "staff_declined"
    assert _rows(booking, "booking_cancelled").count() == 2


def _assert_nothing_changed(booking):
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING and booking.customer_confirmed_at is None
    assert not _rows(booking, "booking_confirmed").exists() and not _rows(booking, "booking_cancelled").exists()


def test_a_confirm_from_another_phone_changes_nothing(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, stylist, "confirm")
    stranger = UserFactory(preferred_channel="whatsapp")

    meta.deliver(webhook, meta.press_button(sender=stranger.phone, payload=payload, label="Confirm"))
    meta.deliver(webhook, meta.press_button(sender="+966599999999", payload=payload, label="Confirm"))

    _assert_nothing_changed(booking)
    assert set(InboundMessage.objects.values_list("outcome", flat=True)) == {InboundOutcome.IGNORED}
    assert meta.texts_to(stranger.phone) == []  # no answer to someone else's button


def test_a_forged_token_changes_nothing(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, stylist, "confirm")
    forged = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    homemade = f"{booking.pk}.{stylist.pk}.confirm.0"

    for fake_payload in (forged, homemade):
        meta.deliver(webhook, meta.press_button(sender=stylist.phone, payload=fake_payload, label="Confirm"))

    _assert_nothing_changed(booking)
    assert (
        list(InboundMessage.objects.values_list("reason", flat=True))
        == ["The button's token is forged, altered or not ours."] * 2
    )


def test_a_token_for_another_booking_changes_nothing(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    other_stylist = StaffFactory(salon=haircut.salon, services=[haircut], preferred_channel="whatsapp")
    other = _book(api, UserFactory(preferred_channel="whatsapp"), haircut, other_stylist)
    payload_for_other, _ = _button(meta, other_stylist, "confirm")

    # Our stylist presses the other booking's button (forwarded to them): not theirs.
    meta.deliver(webhook, meta.press_button(sender=stylist.phone, payload=payload_for_other, label="Confirm"))

    _assert_nothing_changed(booking)
    other.refresh_from_db()
    assert other.status == BookingStatus.PENDING


def test_a_token_for_a_booking_moved_since_changes_nothing_and_says_why(
    api, now, meta, webhook, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    old_payload, _ = _button(meta, customer, "keep")
    moved = api.as_user(customer).patch(f"/api/bookings/{booking.pk}/", {"start": "2026-03-01T11:00:00+03:00"})
    assert moved.status_code == 200

    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=old_payload, label="I'll be there"))

    booking.refresh_from_db()
    assert booking.customer_confirmed_at is None
    assert meta.texts_to(customer.phone) == [
        "This booking was moved after that message; it is now on 2026-03-01 11:00. "
        "Please use the buttons of the latest message."
    ]
    assert InboundMessage.objects.get().outcome == InboundOutcome.REFUSED


def test_an_expired_token_changes_nothing(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    expired = reply_token(booking=booking, recipient_id=customer.pk, action="cancel")
    hour = timezone.timedelta(hours=1)
    # The booking's time changed without a move (an edit in the database): the token is older than it.
    Booking.objects.filter(pk=booking.pk).update(
        start=F("start") + hour, end=F("end") + hour, busy_until=F("busy_until") + hour
    )
    now.move_to(booking.start + timezone.timedelta(minutes=5))  # past the token's expiry, before the new start

    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=expired, label="Cancel"))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert InboundMessage.objects.get().reason == "The booking has started."


# 3. ------------------------------------------------------------------------------------------
def test_ill_be_there_records_the_customers_attendance_in_the_api_and_the_admin(
    api, admin_client, now, meta, webhook, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)
    payload, message_id = _button(meta, customer, "keep")

    meta.deliver(
        webhook,
        meta.press_button(sender=customer.phone, payload=payload, label="I'll be there", replying_to=message_id),
    )

    shown = api.as_user(customer).get(f"/api/bookings/{booking.pk}/").json()
    assert shown["customer_confirmed_at"] is not None and shown["status"] == "pending"
    page = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()
    assert "Customer confirmed at" in page
    assert meta.texts_to(customer.phone) == [
        "Thank you! We look forward to seeing you at Main Salon on 2026-03-01 10:00."
    ]


def test_an_interactive_reply_works_like_a_button(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, customer, "keep")

    meta.deliver(webhook, meta.press_interactive(sender=customer.phone, reply_id=payload, title="I'll be there"))

    booking.refresh_from_db()
    assert booking.customer_confirmed_at is not None


# 4. ------------------------------------------------------------------------------------------
def test_stop_in_arabic_opts_the_sender_out_of_whatsapp(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)

    meta.deliver(webhook, meta.write(sender=customer.phone, text=" إيقاف "))
    confirmed = api.as_user(stylist).patch(f"/api/bookings/{booking.pk}/", {"status": "confirmed"})

    assert confirmed.status_code == 200
    customer.refresh_from_db()
    assert customer.whatsapp_opted_out is True and customer.sms_opted_out is False
    row = Notification.objects.get(booking=booking, recipient=customer, event="booking_confirmed")
    assert (row.channel, row.status, row.reason) == ("whatsapp", NotificationStatus.SKIPPED, "opted_out")
    assert [m["template"]["name"] for m in meta.messages_to(customer.phone)] == ["booking_created_customer"]


def test_text_messages_are_kept_with_the_senders_latest_booking(
    api, admin_client, now, meta, webhook, customer, haircut, stylist
):
    booking = _book(api, customer, haircut, stylist)

    meta.deliver(webhook, meta.write(sender=customer.phone, text="Can I bring my son too?"))

    row = InboundMessage.objects.get()
    assert (row.text, row.user, row.booking, row.salon, row.outcome) == (
        "Can I bring my son too?",
        customer,
        booking,
        haircut.salon,
        InboundOutcome.STORED,
    )
    assert "Can I bring my son too?" in admin_client.get("/admin/notifications/inboundmessage/").content.decode()


# 5. ------------------------------------------------------------------------------------------
def test_a_reply_after_the_start_gets_the_too_late_answer(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, customer, "cancel")
    now.move_to(booking.start + timezone.timedelta(minutes=1))

    meta.deliver(webhook, meta.press_button(sender=customer.phone, payload=payload, label="Cancel"))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert meta.texts_to(customer.phone) == [
        "Sorry, this booking can no longer be changed by message: it has started. Please call Main Salon."
    ]
    answer = Notification.objects.get(event="reply_answer")
    assert (answer.recipient, answer.status, answer.inbound) == (customer, "sent", InboundMessage.objects.get())


def test_a_refused_reply_is_answered_in_arabic(api, now, meta, webhook, customer, haircut, stylist):
    booking = _book(api, customer, haircut, stylist)
    payload, _ = _button(meta, stylist, "confirm")
    api.as_user(customer).patch(f"/api/bookings/{booking.pk}/", {"status": "cancelled"})

    meta.deliver(webhook, meta.press_button(sender=stylist.phone, payload=payload, label="تأكيد"))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert meta.texts_to(stylist.phone) == ["هذا الحجز ملغى بالفعل؛ لم يتغير شيء."]


# Twilio ------------------------------------------------------------------------------------
def test_a_twilio_quick_reply_confirms(api, now, settings, live_server, customer, haircut, stylist):
    with FakeTwilio() as twilio:
        for key, value in twilio.env().items():
            setattr(settings, key, value)
        settings.NOTIFICATION_PROVIDER = "twilio"
        settings.TWILIO_WHATSAPP_FROM = "+14155238886"
        settings.TWILIO_CONTENT_SIDS = {"booking_created_staff:ar": "HXstaff", "booking_created_customer:en": "HXcust"}
        booking = _book(api, customer, haircut, stylist)
        sent = next(r for r in twilio.calls() if r.to == f"whatsapp:{stylist.phone}")
        assert sent.content_sid == "HXstaff"
        confirm = sent.content_variables["5"]  # after the staff template's 4 body variables
        assert read_reply_token(confirm).action == "confirm"

        response = twilio.post_inbound(
            f"{live_server.url}/api/webhooks/twilio/inbound/",
            {"From": f"whatsapp:{stylist.phone}", "To": "whatsapp:+14155238886", "Body": "تأكيد",
             "ButtonText": "تأكيد", "ButtonPayload": confirm},
        )  # fmt: skip

    assert response.status_code == 204
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
