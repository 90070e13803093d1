"""Sending one failed row again, on a person's request (the admin action, the
``resend_failed_notifications`` command): that row as it is, or why not."""

from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.common.channels import Channel, MessageClass
from apps.notifications.delivery.policy import retry_deadline, stale_reason
from apps.notifications.delivery.publishing import publish_on_commit
from apps.notifications.models import Notification, NotificationStatus
from apps.notifications.promotional import promotional_sms_provider
from integrations.messaging import provider_for_channel


class ResendResult(StrEnum):
    QUEUED = "queued"
    NOT_FAILED = "not_failed"
    NO_PHONE = "no_phone"
    OPTED_OUT = "opted_out"
    APPOINTMENT_STARTED = "appointment_started"
    SENT_BY_SMS = "sent_by_sms"


RESEND_RESULT_TEXT = {
    ResendResult.QUEUED: _("queued again"),
    ResendResult.NOT_FAILED: _("not failed (nothing to resend)"),
    ResendResult.NO_PHONE: _("recipient has no phone"),
    ResendResult.OPTED_OUT: _("recipient opted out of the channel"),
    ResendResult.APPOINTMENT_STARTED: _("the appointment has started"),
    ResendResult.SENT_BY_SMS: _("it went by SMS instead"),
}


@transaction.atomic
def notification_resend(*, notification: Notification) -> ResendResult:
    """Queue exactly this failed row again: same channel, text and template, a fresh
    retry deadline, the recipient's current phone and the channel's current provider.

    Nothing else changes. A row that is not ``failed``, whose recipient has no
    phone or opted out of its channel, about an appointment that has started, or
    a WhatsApp message whose SMS replacement was sent, stays as it is, and the
    result says why.
    """
    now = timezone.now()
    row = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient", "booking")
        .get(pk=notification.pk)
    )
    if row.status != NotificationStatus.FAILED:
        return ResendResult.NOT_FAILED
    if not row.recipient.phone:
        return ResendResult.NO_PHONE
    if row.recipient.opted_out_of(row.channel):
        return ResendResult.OPTED_OUT
    if stale_reason(row, now):
        return ResendResult.APPOINTMENT_STARTED
    replacement = Notification.objects.filter(fallback_of=row, status=NotificationStatus.SENT)
    if row.channel == Channel.WHATSAPP and replacement.exists():
        return ResendResult.SENT_BY_SMS
    row.phone = row.recipient.phone
    row.provider = provider_for_channel(row.channel)
    if row.message_class == MessageClass.PROMOTIONAL and row.channel == Channel.SMS:
        row.provider = promotional_sms_provider()
    row.status, row.reason, row.claimed_until = NotificationStatus.PENDING, "", None
    row.retry_until = retry_deadline(now)
    row.save(update_fields=["phone", "provider", "status", "reason", "claimed_until", "retry_until", "updated_at"])
    publish_on_commit(row.pk)
    return ResendResult.QUEUED
