from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.common.channels import Channel


class NotificationEvent(models.TextChoices):
    BOOKING_CREATED = "booking_created", _("Booking created")
    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    BOOKING_RESCHEDULED = "booking_rescheduled", _("Booking rescheduled")
    BOOKING_REMINDER = "booking_reminder", _("Booking reminder")
    BOOKING_COMPLETED = "booking_completed", _("Booking completed (thank-you)")
    BOOKING_NO_SHOW = "booking_no_show", _("Booking no-show")
    REPLY_ANSWER = "reply_answer", _("Answer to a reply")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# The one channel vocabulary (apps/common/channels.py), under the name SPEC.md fixes here.
NotificationChannel = Channel


class Notification(models.Model):
    """One message to one recipient about one booking event on one channel.

    The row is the audit record and the outbox entry at once: it is written in
    the transaction that changed the booking, then delivered after commit.
    """

    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="notifications", verbose_name=_("booking")
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("recipient")
    )
    phone = models.CharField(_("phone as sent"), max_length=16, blank=True)
    event = models.CharField(max_length=32, choices=NotificationEvent.choices, verbose_name=_("event"))
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices, verbose_name=_("channel"))
    # 0 for one-off events; the booking's move number for reschedules and
    # reminders, so that every move is told once and reminded anew.
    sequence = models.PositiveIntegerField(default=0, verbose_name=_("sequence"))
    # Reminders: how many minutes before the start this one is (0 for other events).
    reminder_offset_minutes = models.PositiveIntegerField(default=0, verbose_name=_("reminder (minutes before)"))
    status = models.CharField(
        max_length=16,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        db_index=True,
        verbose_name=_("status"),
    )
    provider = models.CharField(max_length=32, blank=True, verbose_name=_("provider"))
    message = models.TextField(verbose_name=_("message"))
    reason = models.TextField(_("reason for failure or skip"), blank=True)
    provider_message_id = models.CharField(
        max_length=128, blank=True, db_index=True, verbose_name=_("provider message id")
    )
    # WhatsApp template for this message (name and ordered variables, in `language`).
    template = models.CharField(max_length=64, blank=True, verbose_name=_("template"))
    language = models.CharField(max_length=2, blank=True, verbose_name=_("language"))
    variables = models.JSONField(default=list, blank=True, verbose_name=_("variables"))
    # WhatsApp quick-reply payloads (signed tokens), in the template's button order.
    buttons = models.JSONField(default=list, blank=True, verbose_name=_("buttons"))
    # An answer to an inbound message (event reply_answer): at most one per message.
    inbound = models.OneToOneField(
        "notifications.InboundMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answer",
        verbose_name=_("inbound"),
    )
    # What the provider reported after accepting the message (delivery reports).
    delivery_status = models.CharField(max_length=16, blank=True, verbose_name=_("delivery status"))
    delivery_updated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivery updated at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    # Provider calls made for this row, over its whole life (see DeliveryAttempt).
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    # Transient failures are retried until then (NOTIFICATION_RETRY_DEADLINE_SECONDS
    # after the row was queued, or resent); a message about an appointment also
    # gives up at the appointment's start.
    retry_until = models.DateTimeField(null=True, blank=True, verbose_name=_("retry until"))
    # A worker owns the row until then; after it, another may pick it up.
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "recipient", "event", "channel"],
                condition=~models.Q(event__in=["booking_rescheduled", "booking_reminder", "reply_answer"]),
                name="notification_once_per_booking_recipient_event_channel",
            ),
            models.UniqueConstraint(
                fields=["booking", "recipient", "event", "channel", "sequence", "reminder_offset_minutes"],
                condition=~models.Q(event="reply_answer"),
                name="notification_once_per_move_and_offset",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status_created")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.get_channel_display()}): {self.get_status_display()}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    TRANSIENT_ERROR = "transient_error", _("Transient error (retried)")
    PERMANENT_ERROR = "permanent_error", _("Permanent error")
    OPTED_OUT = "opted_out", _("Recipient opted out")


class DeliveryAttempt(models.Model):
    """One provider call for one notification: when, how long, and what came back."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_attempts", verbose_name=_("notification")
    )
    number = models.PositiveIntegerField(
        help_text=_("1 for the first call of this notification."), verbose_name=_("number")
    )
    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, verbose_name=_("outcome"))
    provider_message_id = models.CharField(max_length=128, blank=True, verbose_name=_("provider message id"))
    error_code = models.CharField(max_length=64, blank=True, verbose_name=_("error code"))
    error_message = models.TextField(blank=True, verbose_name=_("error message"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["notification_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="delivery_attempt_once_per_number"),
        ]

    def __str__(self) -> str:
        return _("attempt %(number)s: %(outcome)s") % {"number": self.number, "outcome": self.get_outcome_display()}

    @property
    def duration_ms(self) -> int:
        return round((self.finished_at - self.started_at).total_seconds() * 1000)


def default_reminder_offsets() -> list[int]:
    return [1440, 120]


def validate_reminder_offsets(value) -> None:
    if not isinstance(value, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in value):
        raise ValidationError(_("Give a list of whole minutes, for example [1440, 120]."))
    if len(value) > 5:
        raise ValidationError(_("At most five reminders per booking."))
    if len(set(value)) != len(value) or not all(5 <= m <= 30 * 24 * 60 for m in value):
        raise ValidationError(_("Each reminder is between 5 minutes and 30 days before the start, without repeats."))


class SalonNotificationSettings(models.Model):
    """What a salon's customers and staff are told besides the booking's own steps.

    A salon without a row uses the defaults (``for_salon``).
    """

    salon = models.OneToOneField(
        "salons.Salon", on_delete=models.CASCADE, related_name="notification_settings", verbose_name=_("salon")
    )
    reminder_offsets_minutes = models.JSONField(
        _("reminders (minutes before the start)"),
        default=default_reminder_offsets,
        validators=[validate_reminder_offsets],
        help_text=_("The customer gets one reminder at each; the staff member at the shortest."),
    )
    quiet_hours_start = models.TimeField(
        default=time(22, 0), help_text=_("Salon local time."), verbose_name=_("quiet hours start")
    )
    quiet_hours_end = models.TimeField(
        default=time(8, 0),
        help_text=_("Salon local time. Equal to the start: no quiet hours."),
        verbose_name=_("quiet hours end"),
    )
    send_completed = models.BooleanField(_("send the thank-you after a visit"), default=True)
    review_url = models.URLField(_("review link in the thank-you"), blank=True)
    send_no_show = models.BooleanField(_("send the no-show notice"), default=True)

    class Meta:
        verbose_name = _("salon message settings")
        verbose_name_plural = _("salon message settings")

    def __str__(self) -> str:
        return _("Message settings of %(salon)s") % {"salon": self.salon}

    @classmethod
    def for_salon(cls, salon) -> "SalonNotificationSettings":
        """The salon's settings, or unsaved defaults (no query if loaded with select_related)."""
        try:
            return salon.notification_settings
        except cls.DoesNotExist:
            return cls(salon=salon)


class ReplyAction(models.TextChoices):
    KEEP = "keep", _("I'll be there")
    CANCEL = "cancel", _("Cancel")
    CONFIRM = "confirm", _("Confirm")
    DECLINE = "decline", _("Decline")
    STOP = "stop", _("Stop messages")


class InboundOutcome(models.TextChoices):
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused by the booking rules")
    IGNORED = "ignored", _("Ignored (not a valid reply)")
    OPTED_OUT = "opted_out", _("Opted out")
    STORED = "stored", _("Stored (a text message)")


class InboundMessage(models.Model):
    """A message a person sent us (a quick-reply button, or text), stored once per
    provider message id: providers redeliver webhooks, a replay changes nothing."""

    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    provider_message_id = models.CharField(max_length=128, verbose_name=_("provider message id"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    phone = models.CharField(_("sender"), max_length=32)
    text = models.TextField(blank=True, verbose_name=_("text"))
    button_text = models.CharField(max_length=128, blank=True, verbose_name=_("button text"))
    button_payload = models.CharField(max_length=256, blank=True, verbose_name=_("button payload"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("user"),
    )
    # The booking the reply acted on, or the sender's latest booking for a text.
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("booking"),
    )
    salon = models.ForeignKey(
        "salons.Salon",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("salon"),
    )
    action = models.CharField(max_length=16, choices=ReplyAction.choices, blank=True, verbose_name=_("action"))
    outcome = models.CharField(max_length=16, choices=InboundOutcome.choices, verbose_name=_("outcome"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_message_id"], name="inbound_once_per_message"),
        ]
        indexes = [models.Index(fields=["salon", "-received_at"], name="inbound_salon_received")]

    def __str__(self) -> str:
        return _("%(channel)s from %(phone)s: %(text)s") % {
            "channel": self.get_channel_display(),
            "phone": f"\u2066{self.phone}\u2069",
            "text": self.button_text or self.text[:40],
        }
