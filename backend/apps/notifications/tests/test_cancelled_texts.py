"""A cancelled text names its reason within the SMS budget: one GSM-7 segment in
English, two UCS-2 segments in Arabic, with 25-character names."""

import pytest

from apps.bookings.models import CancellationReason
from apps.common.tests.factories import BookingFactory
from apps.notifications.messages import SEGMENT_BUDGET, compose, template_for
from integrations.messaging.segments import Encoding, sms_size

pytestmark = pytest.mark.django_db

LONG_WRITTEN = "The stylist is ill today and nobody else can take this appointment, sorry"
ARABIC_WRITTEN = "مقدمة الخدمة مريضة اليوم"


@pytest.fixture
def long_names(now):
    booking = BookingFactory(
        service__name="S" * 25,
        service__name_ar="خ" * 25,
        service__salon__name="N" * 25,
        service__salon__name_ar="ص" * 25,
        customer__name="C" * 25,
        status="cancelled",
    )
    booking.staff.name = "T" * 25
    return booking


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("audience", ["customer", "staff"])
@pytest.mark.parametrize("reason", ["", *CancellationReason.values, LONG_WRITTEN, ARABIC_WRITTEN])
def test_every_cancelled_text_fits_its_budget(long_names, language, audience, reason):
    long_names.cancellation_reason = reason

    text = compose(event="booking_cancelled", audience=audience, language=language, booking=long_names)

    size = sms_size(text)
    assert size.encoding == (Encoding.GSM7 if language == "en" else Encoding.UCS2), (
        text
    )  # an Arabic reason is left out of English
    assert size.segments <= SEGMENT_BUDGET[language], (size, text)


def test_the_customers_text_names_a_usual_reason_in_their_language(long_names):
    long_names.cancellation_reason = CancellationReason.SALON_CLOSED

    english = compose(event="booking_cancelled", audience="customer", language="en", booking=long_names)
    arabic = compose(event="booking_cancelled", audience="customer", language="ar", booking=long_names)

    assert english.endswith("is cancelled (salon closed).") and arabic.endswith("(الصالون مغلق).")


def test_a_long_written_reason_is_cut_and_an_arabic_one_left_out_of_english(long_names):
    long_names.cancellation_reason = LONG_WRITTEN
    cut = compose(event="booking_cancelled", audience="customer", language="en", booking=long_names)
    long_names.cancellation_reason = ARABIC_WRITTEN
    left_out = compose(event="booking_cancelled", audience="customer", language="en", booking=long_names)
    in_arabic = compose(event="booking_cancelled", audience="customer", language="ar", booking=long_names)

    assert "(The stylist is ill today" in cut and cut.endswith("...).")
    assert sms_size(cut).segments == 1 and len(cut) >= 155  # cut to use the segment, not more
    assert left_out.endswith("is cancelled.")
    assert in_arabic.endswith(f"({ARABIC_WRITTEN}).")


def test_whatsapp_has_a_template_with_the_reason(long_names):
    long_names.cancellation_reason = CancellationReason.DUPLICATE

    name, variables = template_for(event="booking_cancelled", audience="customer", language="en", booking=long_names)
    long_names.cancellation_reason = ""
    plain, plain_variables = template_for(
        event="booking_cancelled", audience="customer", language="en", booking=long_names
    )

    assert (name, variables[-1]) == ("booking_cancelled_reason_customer", "booked twice")
    assert plain == "booking_cancelled_customer" and len(plain_variables) == 3
