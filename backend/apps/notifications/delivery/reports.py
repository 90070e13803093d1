"""What providers tell us after accepting a message: delivery reports.

A provider may accept a WhatsApp message (HTTP 200 with an id) and only later
report that it could not deliver it (Meta's 131026 for a number without
WhatsApp, Twilio's 63003). Such a report is read with the same table of provider
errors as an immediate refusal (``integrations.messaging.errors``): the row
becomes ``failed``, we learn what it says (the person is not on WhatsApp, the
template is paused), and the message goes once by SMS, or is tried again on
WhatsApp, as the table says.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.common.channels import Channel
from apps.notifications.delivery.policy import retry_delay, stale_reason, too_late_to_retry
from apps.notifications.delivery.publishing import publish_on_commit
from apps.notifications.models import DeliveryStage, Notification, NotificationStatus, Reroute
from apps.notifications.routing import learn_from_delivery, learn_from_failure
from apps.notifications.services import notification_fall_back_to_sms
from integrations.messaging.errors import OnFailure, error_rule

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_record_delivery(
    *, provider_message_id: str, status: str, at: datetime, error_code: str = "", error_text: str = ""
) -> Notification | None:
    """Record a provider's delivery report on the matching notification, and act on a failure.

    Reports arrive late, repeated and out of order: one for an earlier or the same
    stage as the one recorded (``sent`` after ``delivered``, a second ``failed``)
    changes nothing, so a failure is acted on once. Unknown message ids and
    statuses are ignored. Returns the notification, or None if none matches.
    """
    try:
        stage = DeliveryStage((status or "").lower())
    except ValueError:
        return None
    # A NUL byte cannot be in any id we stored, and PostgreSQL refuses it in a query.
    if not provider_message_id or "\x00" in provider_message_id:
        return None
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("booking", "recipient")
        .filter(provider_message_id=provider_message_id)
        .first()
    )
    if notification is None:
        return None
    recorded = DeliveryStage(notification.delivery_status) if notification.delivery_status else None
    if recorded is not None and stage.rank <= recorded.rank:
        return notification
    notification.delivery_status = stage
    notification.delivery_updated_at = at
    if stage in (DeliveryStage.DELIVERED, DeliveryStage.READ):
        notification.delivered_at = notification.delivered_at or at
        learn_from_delivery(notification)
    if stage == DeliveryStage.READ:
        notification.read_at = at
    if stage.is_failure:
        _after_late_failure(notification, error_code=str(error_code or ""), error_text=error_text, at=at)
    notification.save()
    return notification


def _after_late_failure(notification: Notification, *, error_code: str, error_text: str, at: datetime) -> None:
    """The provider accepted the message, then could not deliver it."""
    rule = error_rule(notification.provider, error_code)
    error = f"[{error_code}] {error_text}".strip() if error_code else (error_text or "delivery failed")
    logger.warning(
        "Notification %s reported %s by %s: [%s]",
        notification.pk,
        notification.delivery_status,
        notification.provider,
        error_code,
    )
    learn_from_failure(notification, rule, at=at, error=error_text)
    if notification.status != NotificationStatus.SENT:
        return  # already failed or being retried: this report adds nothing to do
    notification.reason = error[:1000]
    if rule.on_failure == OnFailure.RETRY and notification.channel == Channel.WHATSAPP and _retry(notification):
        return
    notification.status = NotificationStatus.FAILED
    if rule.on_failure != OnFailure.GIVE_UP:
        notification_fall_back_to_sms(notification=notification, reroute=Reroute.WHATSAPP_FAILED)


def _retry(notification: Notification) -> bool:
    """Send it again on the same channel after a backoff, if that still makes sense."""
    now = timezone.now()
    delay = retry_delay(notification.attempts + 1)
    retry_at = now + timedelta(seconds=delay)
    if stale_reason(notification, now) or too_late_to_retry(notification, retry_at):
        return False
    notification.status = NotificationStatus.PENDING
    notification.claimed_until = retry_at  # reserved for the retry: the sweep leaves it alone
    publish_on_commit(notification.pk, countdown=delay)
    return True
