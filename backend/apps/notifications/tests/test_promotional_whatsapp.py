"""WhatsApp's own marketing stop and resume (Meta's ``user_preferences`` webhook, signed)
decide whether the thank-you goes on WhatsApp. Through a live server and the fake
WhatsApp server, as Meta would post it."""

from datetime import datetime

import pytest

from apps.common.tests.factories import RIYADH, BookingFactory, UserFactory
from apps.notifications.consent import consent_record, has_marketing_consent
from apps.notifications.models import ConsentSource, MarketingConsent, SkipReason
from apps.notifications.services import send_booking_notification

pytestmark = pytest.mark.django_db(transaction=True)


def _visit(haircut, stylist, customer, hour):
    start = datetime(2026, 2, 28, hour, 0, tzinfo=RIYADH)
    return BookingFactory(service=haircut, staff=stylist, customer=customer, start=start)


def test_a_stop_in_whatsapp_skips_the_thank_you_and_a_resume_lets_it_go(
    now, meta, live_server, haircut, stylist, django_capture_on_commit_callbacks
):
    now.move_to(datetime(2026, 2, 28, 11, 0, tzinfo=RIYADH))  # inside the promotional window
    customer = UserFactory(preferred_language="en", preferred_channel="whatsapp")
    consent_record(user=customer, channel="whatsapp", granted=True, source=ConsentSource.API)
    hook = f"{live_server.url}/api/webhooks/whatsapp/"

    stop = meta.deliver(hook, meta.user_preference(sender=customer.phone, value="stop"))
    with django_capture_on_commit_callbacks(execute=True):
        first = send_booking_notification(_visit(haircut, stylist, customer, 9), customer, "booking_completed")
    first.refresh_from_db()

    assert stop.status_code == 200
    latest = MarketingConsent.objects.filter(user=customer).first()
    assert (latest.channel, latest.granted, latest.source) == ("whatsapp", False, ConsentSource.WHATSAPP)
    assert latest.wording == "User requested to stop marketing messages"  # Meta's own words
    assert (first.status, first.reason) == ("skipped", SkipReason.NO_CONSENT)
    assert meta.messages_to(customer.phone) == []

    resume = meta.deliver(hook, meta.user_preference(sender=customer.phone, value="resume"))
    with django_capture_on_commit_callbacks(execute=True):
        second = send_booking_notification(_visit(haircut, stylist, customer, 10), customer, "booking_completed")
    second.refresh_from_db()

    assert resume.status_code == 200 and has_marketing_consent(customer.pk, "whatsapp")
    assert (second.channel, second.status) == ("whatsapp", "sent")
    (sent,) = meta.messages_to(customer.phone)
    assert sent["template"]["name"] == "booking_completed_customer"


def test_a_preference_for_someone_we_do_not_know_or_unsigned_changes_nothing(now, meta, live_server):
    hook = f"{live_server.url}/api/webhooks/whatsapp/"

    stranger = meta.deliver(hook, meta.user_preference(sender="+966551112233", value="stop"))
    customer = UserFactory()
    forged = meta.deliver(hook, meta.user_preference(sender=customer.phone, value="resume"), secret="wrong")

    assert (stranger.status_code, forged.status_code) == (200, 403)
    assert not MarketingConsent.objects.exists()
