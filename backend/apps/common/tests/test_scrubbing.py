"""Logs and error reports hold no phone number, login code, token or message text.

The live proof (a failed send through gunicorn and a worker, Sentry on) is in
apps/privacy/tests/test_privacy_live.py; here the pieces, with the logging
configuration settings.py installs and a real Sentry client posting to a local server.
"""

import io
import logging

import pytest
import sentry_sdk

from apps.common.scrubbing import (
    CONSOLE_LOGGER,
    PersonalDataFilter,
    mask_phone,
    personal_data,
    personal_data_scope,
    scrub_text,
    sentry_options,
)
from apps.common.tests.fake_sentry import FakeSentry
from apps.common.tests.live import wait_for

PHONE = "+966539871402"
TEXT = "Your booking for Haircut at Main Salon on 2026-03-01 10:00 is confirmed."
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+966539871402", "+9665******02"),
        ("966539871402", "9665******02"),
        ("00966539871402", "009665******02"),
        ("0539871402", "05******02"),
        ("539871402", "5******02"),
        ("", ""),
    ],
)
def test_a_phone_is_masked_to_its_country_network_and_last_two_digits(phone, masked):
    assert mask_phone(phone) == masked


def test_free_text_loses_numbers_tokens_and_codes_but_keeps_ids_and_times():
    text = (
        f"To {PHONE} (whatsapp:{PHONE}, 966539871402, 0539871402, +966 53 987 1402) "
        f"Bearer {TOKEN} refresh={TOKEN} your code is 123456; رمز الدخول إلى صالون هو 654321. "
        "Notification 123456 sid SM00000000000000000000000000000012 at 2026-03-01 10:00"
    )

    scrubbed = scrub_text(text)

    assert "539871402" not in scrubbed and "987 1402" not in scrubbed
    assert "eyJ" not in scrubbed and "123456;" not in scrubbed and "654321" not in scrubbed
    assert "+9665******02" in scrubbed and "whatsapp:+9665******02" in scrubbed and "05******02" in scrubbed
    assert "Notification 123456" in scrubbed and "SM00000000000000000000000000000012" in scrubbed
    assert "2026-03-01 10:00" in scrubbed
    assert scrub_text(scrubbed) == scrubbed


@pytest.fixture
def configured_log():
    """The handler settings.LOGGING installs on the root logger, writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, PersonalDataFilter) for f in h.filters))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_log_lines_mask_numbers_in_the_message_and_the_traceback(configured_log):
    logger = logging.getLogger("apps.notifications.delivery.sending")
    try:
        raise ValueError(f"The 'To' number {PHONE} is not a valid phone number.")
    except ValueError:
        logger.error("Notification %s to %s failed for good: %s", 7, PHONE, f"Bearer {TOKEN}", exc_info=True)

    written = configured_log.getvalue()
    assert "Notification 7 to +9665******02 failed for good: Bearer [token]" in written
    assert "ValueError: The 'To' number +9665******02 is not a valid phone number." in written
    assert "539871402" not in written and TOKEN not in written


def test_the_console_providers_lines_stay_whole(configured_log):
    logging.getLogger(CONSOLE_LOGGER).info("OTP SMS to %s: %s", "0539871402", "Your Salon login code is 123456.")

    assert "OTP SMS to 0539871402: Your Salon login code is 123456." in configured_log.getvalue()


@personal_data_scope
def _send_to(fake: FakeSentry, phone: str, text: str, code: str, token: str) -> None:
    """What a send that fails in our code would carry: the number, the text, the code
    and a token in local variables, the exception and the breadcrumbs."""
    personal_data(text, code)  # as delivery and the login code do
    form = {"To": phone, "Body": text}
    authorization = f"Bearer {token}"
    logging.getLogger(CONSOLE_LOGGER).info("OTP SMS to %s: %s", phone, text)
    logging.getLogger("apps.accounts.services.otp").warning("OTP delivery failed for %s", phone)
    raise RuntimeError(f"Provider refused {phone}: {form} {authorization} code {code}")


def test_a_real_sentry_client_sends_events_without_numbers_codes_tokens_or_texts():
    code = "482913"
    with FakeSentry() as fake:
        options = sentry_options(dsn=fake.dsn, environment="test")
        # The logging integration only (no Django or Celery patching of this test process).
        options["integrations"] = [sentry_sdk.integrations.logging.LoggingIntegration()]
        options["default_integrations"] = False
        client = sentry_sdk.Client(**options)
        with sentry_sdk.isolation_scope() as scope:
            scope.set_client(client)
            try:
                _send_to(fake, PHONE, TEXT, code, TOKEN)
            except RuntimeError:
                sentry_sdk.capture_exception()
            logging.getLogger("apps.notifications.delivery.sending").error(
                "Notification %s to %s failed for good via %s", 7, PHONE, "twilio"
            )
        client.flush(timeout=10)
        wait_for(lambda: len(fake.events()) >= 2, timeout=10, what="two events")
        client.close()

        events, raw = fake.events(), fake.raw()
    exception = next(e for e in events if e.get("exception"))
    frame = exception["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["function"] == "_send_to"
    assert {frame["vars"][name] for name in ("phone", "text", "code", "form", "token", "authorization")} == {
        "[Filtered]"
    }
    assert exception["exception"]["values"][-1]["value"] == (
        "Provider refused +9665******02: {'To': '+9665******02', 'Body': '[personal data]'} Bearer [token] "
        "code [personal data]"
    )
    logged = next(e for e in events if e.get("logentry"))
    assert logged["logentry"]["formatted"] == "Notification 7 to +9665******02 failed for good via twilio"
    crumbs = [crumb.get("category") for crumb in exception.get("breadcrumbs", {}).get("values", [])]
    assert "apps.accounts.services.otp" in crumbs and CONSOLE_LOGGER not in crumbs
    for secret in ("539871402", "987 1402", TEXT, "Haircut at Main Salon", code, TOKEN, "eyJ"):
        assert secret not in raw, secret
