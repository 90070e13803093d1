"""The one table of provider errors: what each code means for the message and
what it teaches us about the person or the template.

A provider refuses a message either while we wait for its answer (the HTTP
response) or later, in a delivery report (Meta's status webhook, Twilio's status
callback). Both paths read the code here, so a code means the same whatever way
it arrives. docs/providers.md lists the same table with the provider's own
documentation for each code (a test keeps the two equal).

Codes not in the table: HTTP 5xx, 429 and network errors are retried; anything
else is final on its channel, and a WhatsApp template message then falls back to
one SMS (``apps.notifications.delivery``): reaching the person matters more than
the channel, and an SMS cannot duplicate a WhatsApp message that failed. Only
``give_up`` ends a message without another channel.
"""

from dataclasses import dataclass
from enum import StrEnum


class OnFailure(StrEnum):
    """What to do with the message."""

    RETRY = "retry"  # the same channel again, after a backoff (rate limits, outages)
    FALL_BACK = "fall_back"  # final on this channel; a WhatsApp message goes once by SMS instead
    GIVE_UP = "give_up"  # final, no other channel (the person's own choice, a bad number)


class Learned(StrEnum):
    """What the error tells us beyond this one message."""

    NOTHING = ""
    RECIPIENT_NOT_ON_WHATSAPP = "recipient_not_on_whatsapp"  # SMS first for a while
    TEMPLATE_PAUSED = "template_paused"  # SMS for this template until it is approved again
    TEMPLATE_DISABLED = "template_disabled"
    OPTED_OUT = "opted_out"  # the person replied STOP on this channel
    MARKETING_STOPPED = "marketing_stopped"  # the person stopped this business's marketing on WhatsApp


@dataclass(frozen=True)
class ErrorRule:
    on_failure: OnFailure
    learned: Learned = Learned.NOTHING
    meaning: str = ""
    source: str = ""  # the provider's documentation that says so


META = "whatsapp_cloud"
TWILIO = "twilio"
META_DOCS = "https://developers.facebook.com/documentation/business-messaging/whatsapp"
META_ERRORS = f"Meta, WhatsApp error codes: {META_DOCS}/support/error-codes"
META_PER_USER_LIMITS = (
    f"Meta, per-user marketing template limits: {META_DOCS}/templates/marketing-templates/per-user-limits"
)
META_MARKETING = (
    "Meta, marketing templates, user preferences: https://developers.facebook.com/docs/whatsapp/marketing-templates"
)
META_PAUSING = f"Meta, template pausing: {META_DOCS}/templates/template-pausing"


def _twilio(code: int) -> str:
    return f"Twilio error {code}: https://www.twilio.com/docs/api/errors/{code}"


PROVIDER_ERRORS: dict[tuple[str, str], ErrorRule] = {
    # --- Meta WhatsApp Cloud API (in the HTTP answer, in a status webhook, or both) ------------
    (META, "131026"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.RECIPIENT_NOT_ON_WHATSAPP,
        "Message undeliverable: the number is not on WhatsApp, or cannot receive this message.",
        META_ERRORS,
    ),
    (META, "131049"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.NOTHING,
        "Not delivered to keep ecosystem engagement healthy (per-user marketing limit); "
        "Meta: no WhatsApp resend within 24 hours.",
        META_PER_USER_LIMITS,
    ),
    (META, "131050"): ErrorRule(
        OnFailure.GIVE_UP,
        Learned.MARKETING_STOPPED,
        "The person stopped marketing messages from this business on WhatsApp: never retried, not routed around.",
        META_MARKETING,
    ),
    (META, "131047"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.NOTHING,
        "Re-engagement message: more than 24 hours since the person last wrote; free text is refused.",
        META_ERRORS,
    ),
    (META, "130472"): ErrorRule(
        OnFailure.FALL_BACK, Learned.NOTHING, "The person is part of a marketing experiment.", META_ERRORS
    ),
    (META, "131051"): ErrorRule(OnFailure.FALL_BACK, Learned.NOTHING, "Unsupported message type.", META_ERRORS),
    (META, "132015"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.TEMPLATE_PAUSED,
        "Template paused for low quality (3 h, then 6 h; a third pause disables it).",
        META_PAUSING,
    ),
    (META, "132016"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.TEMPLATE_DISABLED,
        "Template paused too many times and now permanently disabled.",
        META_ERRORS,
    ),
    (META, "132001"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.NOTHING,
        "Template does not exist in this language, or is not approved.",
        META_ERRORS,
    ),
    (META, "130429"): ErrorRule(
        OnFailure.RETRY, Learned.NOTHING, "Rate limit hit (the number's messages per second).", META_ERRORS
    ),
    (META, "131056"): ErrorRule(
        OnFailure.RETRY, Learned.NOTHING, "Pair rate limit: too many messages to the same number.", META_ERRORS
    ),
    (META, "131048"): ErrorRule(
        OnFailure.RETRY, Learned.NOTHING, "Spam rate limit: the number may send fewer messages for now.", META_ERRORS
    ),
    (META, "131000"): ErrorRule(OnFailure.RETRY, Learned.NOTHING, "Something went wrong (unknown).", META_ERRORS),
    (META, "133004"): ErrorRule(OnFailure.RETRY, Learned.NOTHING, "Server temporarily unavailable.", META_ERRORS),
    # --- Twilio (SMS and WhatsApp; in the HTTP answer or the status callback) -------------------
    (TWILIO, "63003"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.RECIPIENT_NOT_ON_WHATSAPP,
        "Channel could not find the To address: the number is not on WhatsApp.",
        _twilio(63003),
    ),
    (TWILIO, "63024"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.RECIPIENT_NOT_ON_WHATSAPP,
        "Invalid message recipient: not a valid WhatsApp user (Meta 131026).",
        _twilio(63024),
    ),
    (TWILIO, "63016"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.NOTHING,
        "Free-form message outside the 24-hour window: a template is needed.",
        _twilio(63016),
    ),
    (TWILIO, "63049"): ErrorRule(
        OnFailure.FALL_BACK,
        Learned.NOTHING,
        "Meta chose not to deliver this marketing message (Meta 131049).",
        _twilio(63049),
    ),
    (TWILIO, "63032"): ErrorRule(
        OnFailure.FALL_BACK, Learned.NOTHING, "Failed because of a WhatsApp experiment.", _twilio(63032)
    ),
    (TWILIO, "63018"): ErrorRule(
        OnFailure.RETRY, Learned.NOTHING, "Rate limit exceeded for the WhatsApp channel.", _twilio(63018)
    ),
    (TWILIO, "20429"): ErrorRule(OnFailure.RETRY, Learned.NOTHING, "Too many requests.", _twilio(20429)),
    (TWILIO, "21610"): ErrorRule(
        OnFailure.GIVE_UP,
        Learned.OPTED_OUT,
        "The recipient replied STOP: nothing more on this channel.",
        _twilio(21610),
    ),
    (TWILIO, "21211"): ErrorRule(OnFailure.GIVE_UP, Learned.NOTHING, "Invalid 'To' phone number.", _twilio(21211)),
    (TWILIO, "21614"): ErrorRule(OnFailure.GIVE_UP, Learned.NOTHING, "'To' is not a mobile number.", _twilio(21614)),
}


def is_transient_status(status_code: int | None) -> bool:
    return status_code is not None and (status_code == 429 or status_code >= 500)


def error_rule(provider: str, code: str, *, http_status: int | None = None) -> ErrorRule:
    """The rule for ``code`` from ``provider``; codes not in the table are retried
    when the HTTP status says the provider is busy or down, final on their
    channel otherwise (``fall_back``)."""
    rule = PROVIDER_ERRORS.get((provider, str(code or "")))
    if rule is not None:
        return rule
    if is_transient_status(http_status):
        return ErrorRule(OnFailure.RETRY, meaning=f"HTTP {http_status}")
    return ErrorRule(OnFailure.FALL_BACK)
