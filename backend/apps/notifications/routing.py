"""Which channel a message goes on, and what failures and deliveries teach us.

A message goes on the person's preferred channel (else NOTIFICATION_DEFAULT_CHANNEL),
unless WhatsApp cannot take it: the person is known not to be reachable there
(``User.whatsapp_unreachable_until``), or the message's template is paused,
disabled or rejected at Meta. Then it goes by SMS with no WhatsApp call, and the
row says why (``Notification.reroute``). The same check runs again just before a
WhatsApp row is sent, for rows written before the news arrived.
"""

from datetime import datetime, timedelta

from django.conf import settings

from apps.accounts.models import User
from apps.accounts.services.users import user_opt_out, user_whatsapp_reachable, user_whatsapp_unreachable
from apps.common.channels import Channel, MessageClass
from apps.notifications.consent import consent_from_whatsapp
from apps.notifications.models import Notification, Reroute, TemplateStatus
from apps.notifications.whatsapp_templates import template_note, whatsapp_template_record
from integrations.messaging.errors import ErrorRule, Learned

TEMPLATE_STATUS_LEARNED = {
    Learned.TEMPLATE_PAUSED: TemplateStatus.PAUSED,
    Learned.TEMPLATE_DISABLED: TemplateStatus.DISABLED,
}


def whatsapp_reroute(
    recipient: User,
    *,
    template: str,
    language: str,
    message_class: str,
    now: datetime,
    notes: dict | None = None,
) -> str:
    """Why a WhatsApp message to ``recipient`` must go by SMS instead (a ``Reroute``),
    "" when it need not. ``notes``: ``whatsapp_templates.template_notes()``, read once
    for a batch. A service message whose template Meta recategorised as MARKETING
    goes by SMS: on WhatsApp it could only go under the promotional rules (consent,
    daytime), and a booking's news cannot wait for those."""
    if recipient.whatsapp_unreachable(now):
        return Reroute.WHATSAPP_UNREACHABLE
    if not template:
        return ""
    usable, marketing = (
        notes.get((template, language), (True, False)) if notes is not None else template_note(template, language)
    )
    if not usable:
        return Reroute.TEMPLATE_UNAVAILABLE
    if marketing and message_class == MessageClass.SERVICE:
        return Reroute.TEMPLATE_MARKETING
    return ""


def learn_from_failure(notification: Notification, rule: ErrorRule, *, at: datetime, error: str = "") -> None:
    """What a provider's refusal of ``notification`` says about its recipient or template."""
    if rule.learned == Learned.OPTED_OUT:
        user_opt_out(user_id=notification.recipient_id, channel=notification.channel)
    elif rule.learned == Learned.MARKETING_STOPPED:
        consent_from_whatsapp(user=notification.recipient, granted=False, detail=f"WhatsApp refused: {error}", at=at)
    elif notification.channel != Channel.WHATSAPP:
        return
    elif rule.learned == Learned.RECIPIENT_NOT_ON_WHATSAPP:
        until = at + timedelta(days=settings.NOTIFICATION_WHATSAPP_RETRY_AFTER_DAYS)
        user_whatsapp_unreachable(user_id=notification.recipient_id, until=until)
    elif rule.learned in TEMPLATE_STATUS_LEARNED and notification.template:
        whatsapp_template_record(
            name=notification.template,
            language=notification.language,
            at=at,
            status=TEMPLATE_STATUS_LEARNED[rule.learned],
            reason=error,
        )


def learn_from_delivery(notification: Notification) -> None:
    """A WhatsApp message reached its recipient: they are reachable there again."""
    if notification.channel == Channel.WHATSAPP:
        user_whatsapp_reachable(user_id=notification.recipient_id)
