"""Delivering one row: claim it, call its provider, record the call, and decide
what comes next (sent; retried later; failed, with one SMS instead of a WhatsApp
message that cannot get through; skipped when it stopped making sense)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.common.channels import Channel, MessageClass
from apps.common.metrics import DELIVERY_ATTEMPTS, count_notification_on_commit
from apps.common.scrubbing import mask_phone, personal_data, personal_data_scope
from apps.notifications.delivery.pacing import pace
from apps.notifications.delivery.policy import retry_delay, stale_reason, too_late_to_retry
from apps.notifications.models import (
    AttemptOutcome,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Reroute,
    SkipReason,
)
from apps.notifications.promotional import promotional_gate
from apps.notifications.routing import learn_from_failure, whatsapp_reroute
from apps.notifications.services import notification_fall_back_to_sms
from integrations.messaging import ProviderError, RecipientOptedOut, SentMessage, Template, get_provider
from integrations.messaging.errors import OnFailure, error_rule
from integrations.messaging.segments import sms_size

logger = logging.getLogger(__name__)

# A WhatsApp row that cannot be tried: why it is skipped, by why it goes by SMS.
REROUTE_SKIP_REASON = {
    Reroute.WHATSAPP_UNREACHABLE: SkipReason.WHATSAPP_UNREACHABLE,
    Reroute.TEMPLATE_UNAVAILABLE: SkipReason.TEMPLATE_UNAVAILABLE,
}
FINAL_STATUSES = (NotificationStatus.SENT, NotificationStatus.FAILED, NotificationStatus.SKIPPED)
# A run that finds the row claimed looks again when the claim ends, if that is soon;
# a row held longer (a promotional message waiting for the morning) is the sweep's.
LOOK_AGAIN_WITHIN_SECONDS = 300


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery run did; ``retry_in`` is set when it should run again."""

    status: str
    retry_in: float | None = None


@personal_data_scope
def notification_deliver(*, notification_id: int) -> DeliveryOutcome:
    """Send one pending notification through its provider and record the outcome.

    Safe to run twice or concurrently: the row is claimed with one conditional
    UPDATE (status ``pending`` and no live claim), so only one run calls the
    provider; the others, and any run after it was sent, change nothing. Every
    provider call is a ``DeliveryAttempt``. A transient error keeps the row
    ``pending`` and asks for a retry after a backoff until the row's
    ``retry_until`` (then ``failed``); a message about an appointment that has
    started is ``skipped`` instead of sent late. A final error fails at once; a
    WhatsApp booking message then goes once by SMS (unless the provider's error
    says to give up), and so does one that WhatsApp cannot take now (the person is
    not reachable there, or its template is paused): that one with no WhatsApp call.
    """
    now = timezone.now()
    claimed = _claimable(notification_id, now).update(
        claimed_until=now + timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS), updated_at=now
    )
    if not claimed:
        return _not_claimed(notification_id, now)

    notification = Notification.objects.select_related("booking__salon", "recipient").get(pk=notification_id)
    personal_data(notification.message, notification.phone)  # in no log line or error report (docs/privacy.md)
    stale = stale_reason(notification, now)
    if stale:
        _skip(notification, stale, now)
        return DeliveryOutcome(status=NotificationStatus.SKIPPED)
    if notification.message_class == MessageClass.PROMOTIONAL:
        held = _promotional_rules_now(notification, now)
        if held is not None:
            return held
    if notification.channel == Channel.WHATSAPP and notification.template:
        reroute = whatsapp_reroute(
            notification.recipient,
            template=notification.template,
            language=notification.language,
            message_class=notification.message_class,
            now=now,
        )
        if reroute:
            with transaction.atomic():
                if _skip(notification, REROUTE_SKIP_REASON[reroute], now):
                    notification_fall_back_to_sms(notification=notification, reroute=reroute)
            return DeliveryOutcome(status=NotificationStatus.SKIPPED)

    started_at = timezone.now()
    try:
        provider = get_provider(notification.provider)
        if pace(notification.provider, provider.account()):  # the account's rate, shared by all workers
            started_at = timezone.now()
        sent = provider.send(
            notification.phone,
            notification.message,
            notification.channel,
            _template(notification),
            message_class=notification.message_class,
        )
    except RecipientOptedOut as exc:
        # They replied STOP on this channel: remember it, and send nothing more there.
        with transaction.atomic():
            _record(
                notification,
                started_at=started_at,
                outcome=AttemptOutcome.OPTED_OUT,
                error=exc,
                status=NotificationStatus.FAILED,
                reason=f"{SkipReason.OPTED_OUT}: {exc}"[:1000],
            )
            learn_from_failure(notification, error_rule(notification.provider, exc.code), at=timezone.now())
        return DeliveryOutcome(status=NotificationStatus.FAILED)
    except ProviderError as exc:
        if exc.transient:
            return _after_transient_error(notification, started_at=started_at, error=exc)
        return _after_final_error(notification, started_at=started_at, error=exc)
    _record(
        notification,
        started_at=started_at,
        outcome=AttemptOutcome.SENT,
        sent=sent,
        status=NotificationStatus.SENT,
        reason="",
        sent_at=timezone.now(),
    )
    return DeliveryOutcome(status=NotificationStatus.SENT)


def _pending(notification_id: int):
    return Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)


def _claimable(notification_id: int, now: datetime):
    return _pending(notification_id).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))


def _not_claimed(notification_id: int, now: datetime) -> DeliveryOutcome:
    row = Notification.objects.filter(pk=notification_id).values("status", "claimed_until").first()
    if row is None:
        return DeliveryOutcome(status="missing")
    if row["status"] == NotificationStatus.PENDING and row["claimed_until"]:
        # Another run holds it, or this is a scheduled retry whose timer fired a
        # moment early: look again when that claim ends. If the holder has sent
        # it by then, that run does nothing.
        wait = max((row["claimed_until"] - now).total_seconds(), 0) + 0.05
        if wait <= LOOK_AGAIN_WITHIN_SECONDS:
            return DeliveryOutcome(status=row["status"], retry_in=wait)
    return DeliveryOutcome(status=row["status"])


def _promotional_rules_now(notification: Notification, now: datetime) -> DeliveryOutcome | None:
    """The promotional rules again, at the moment of sending (consent withdrawn since,
    the window closed, 24 hours gone): skip, or hold until the window opens; None to go on."""
    due = notification.fallback_of.created_at if notification.fallback_of_id else notification.created_at
    gate = promotional_gate(
        recipient=notification.recipient,
        channel=notification.channel,
        salon=notification.booking.salon,
        due=due,
        now=now,
    )
    if gate.skip_reason:
        _skip(notification, gate.skip_reason, now)
        return DeliveryOutcome(status=NotificationStatus.SKIPPED)
    if notification.channel == Channel.SMS and notification.provider == "twilio":
        _skip(notification, SkipReason.NO_PROMOTIONAL_ROUTE, now)
        return DeliveryOutcome(status=NotificationStatus.SKIPPED)
    if gate.send_at > now:
        # Not before the window opens: reserved until then, no provider call; the sweep hands it over.
        _pending(notification.pk).update(claimed_until=gate.send_at, updated_at=now)
        return DeliveryOutcome(status=NotificationStatus.PENDING)
    return None


def _skip(notification: Notification, reason: str, now: datetime) -> bool:
    """Skip a claimed row without a provider call; whether it was still pending."""
    skipped = _pending(notification.pk).update(
        status=NotificationStatus.SKIPPED, reason=reason, claimed_until=None, updated_at=now
    )
    if skipped:
        count_notification_on_commit(notification, NotificationStatus.SKIPPED)
    return bool(skipped)


def _template(notification: Notification) -> Template | None:
    if not notification.template or notification.channel != Channel.WHATSAPP:
        return None
    return Template(
        name=notification.template,
        language=notification.language,
        variables=list(notification.variables),
        buttons=list(notification.buttons),
    )


def _after_final_error(notification: Notification, *, started_at: datetime, error: ProviderError) -> DeliveryOutcome:
    rule = error_rule(notification.provider, error.code)
    if notification.channel == Channel.WHATSAPP and notification.template and rule.on_failure != OnFailure.GIVE_UP:
        logger.warning("Notification %s failed via %s: [%s]", notification.pk, notification.provider, error.code)
    else:
        # No other channel will carry it: someone is not told. An error report, with the
        # provider's refusal (phone numbers masked, texts and codes kept out: docs/privacy.md).
        logger.error(
            "Notification %s to %s failed for good via %s: [%s]",
            notification.pk,
            mask_phone(notification.phone),
            notification.provider,
            error.code,
            exc_info=error,
        )
    with transaction.atomic():
        failed = _record(
            notification,
            started_at=started_at,
            outcome=AttemptOutcome.PERMANENT_ERROR,
            error=error,
            status=NotificationStatus.FAILED,
            reason=str(error)[:1000],
        )
        learn_from_failure(notification, rule, at=timezone.now(), error=error.message)
        if failed and rule.on_failure != OnFailure.GIVE_UP:
            notification_fall_back_to_sms(notification=notification, reroute=Reroute.WHATSAPP_FAILED)
    return DeliveryOutcome(status=NotificationStatus.FAILED)


def _after_transient_error(
    notification: Notification, *, started_at: datetime, error: ProviderError
) -> DeliveryOutcome:
    number = notification.attempts + 1
    delay = retry_delay(number)
    retry_at = timezone.now() + timedelta(seconds=delay)
    too_late = too_late_to_retry(notification, retry_at)
    if not too_late:
        logger.info(
            "Notification %s attempt %s failed, retry in %.1fs: [%s]", notification.pk, number, delay, error.code
        )
        _record(
            notification,
            started_at=started_at,
            outcome=AttemptOutcome.TRANSIENT_ERROR,
            error=error,
            reason=f"Attempt {number} failed: {error}"[:1000],
            # Reserve the row for the scheduled retry so the sweep leaves it alone.
            claimed_until=retry_at,
        )
        return DeliveryOutcome(status=NotificationStatus.PENDING, retry_in=delay)
    if too_late == SkipReason.APPOINTMENT_STARTED:
        status, reason = NotificationStatus.SKIPPED, SkipReason.APPOINTMENT_STARTED
    else:
        status, reason = NotificationStatus.FAILED, f"Gave up after {number} attempts. Last error: {error}"
    logger.warning(
        "Notification %s %s via %s after %s attempts", notification.pk, status, notification.provider, number
    )
    _record(
        notification,
        started_at=started_at,
        outcome=AttemptOutcome.TRANSIENT_ERROR,
        error=error,
        status=status,
        reason=reason[:1000],
    )
    return DeliveryOutcome(status=status)


@transaction.atomic
def _record(
    notification: Notification,
    *,
    started_at: datetime,
    outcome: str,
    error: ProviderError | None = None,
    sent: SentMessage | None = None,
    **changes,
) -> bool:
    """Write the attempt and the row's new state together; return whether the row
    was still ``pending`` (a run whose claim ran out does not overwrite what
    another run recorded since, but its provider call is still on record)."""
    now = timezone.now()
    attempts = Notification.objects.select_for_update().filter(pk=notification.pk).values_list("attempts", flat=True)
    number = attempts.get() + 1
    size = sms_size(notification.message) if notification.channel == Channel.SMS else None
    DeliveryAttempt.objects.create(
        notification_id=notification.pk,
        number=number,
        provider=notification.provider,
        started_at=started_at,
        finished_at=now,
        outcome=outcome,
        provider_message_id=sent.message_id[:128] if sent else "",
        error_code=(error.code if error else "")[:64],
        error_message=(error.message if error else "")[:1000],
        encoding=size.encoding if size else "",
        segments=size.segments if size else None,
        provider_segments=sent.segments if sent else None,
        price=sent.price if sent else None,
        price_unit=sent.price_unit if sent else "",
    )
    if sent:
        # A new message at the provider: its reports start again from the beginning.
        changes |= {"provider_message_id": sent.message_id[:128], "delivery_status": "", "delivery_updated_at": None}
    changes.setdefault("claimed_until", None)
    updated = _pending(notification.pk).update(attempts=number, updated_at=now, **changes)
    if not updated:
        Notification.objects.filter(pk=notification.pk).update(attempts=number)
    channel, provider = notification.channel, notification.provider
    transaction.on_commit(lambda: DELIVERY_ATTEMPTS.labels(channel, provider, outcome).inc())
    if updated and changes.get("status") in FINAL_STATUSES:
        count_notification_on_commit(notification, changes["status"])
    return bool(updated)
