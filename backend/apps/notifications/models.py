from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.common.channels import Channel


class NotificationEvent(models.TextChoices):
    BOOKING_CREATED = "booking_created", "Booking created"
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
    BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
    BOOKING_RESCHEDULED = "booking_rescheduled", "Booking rescheduled"
    BOOKING_REMINDER = "booking_reminder", "Booking reminder"
    BOOKING_COMPLETED = "booking_completed", "Booking completed (thank-you)"
    BOOKING_NO_SHOW = "booking_no_show", "Booking no-show"
    REPLY_ANSWER = "reply_answer", "Answer to a reply"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# The one channel vocabulary (apps/common/channels.py), under the name SPEC.md fixes here.
NotificationChannel = Channel


class Notification(models.Model):
    """One message to one recipient about one booking event on one channel.

    The row is the audit record and the outbox entry at once: it is written in
    the transaction that changed the booking, then delivered after commit.
    """

    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    phone = models.CharField("phone as sent", max_length=16, blank=True)
    event = models.CharField(max_length=32, choices=NotificationEvent.choices)
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices)
    # 0 for one-off events; the booking's move number for reschedules and
    # reminders, so that every move is told once and reminded anew.
    sequence = models.PositiveIntegerField(default=0)
    # Reminders: how many minutes before the start this one is (0 for other events).
    reminder_offset_minutes = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING, db_index=True
    )
    provider = models.CharField(max_length=32, blank=True)
    message = models.TextField()
    reason = models.TextField("reason for failure or skip", blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    # WhatsApp template for this message (name and ordered variables, in `language`).
    template = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=2, blank=True)
    variables = models.JSONField(default=list, blank=True)
    # WhatsApp quick-reply payloads (signed tokens), in the template's button order.
    buttons = models.JSONField(default=list, blank=True)
    # An answer to an inbound message (event reply_answer): at most one per message.
    inbound = models.OneToOneField(
        "notifications.InboundMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="answer"
    )
    # What the provider reported after accepting the message (delivery reports).
    delivery_status = models.CharField(max_length=16, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Provider calls made for this row, over its whole life (see DeliveryAttempt).
    attempts = models.PositiveIntegerField(default=0)
    # Transient failures are retried until then (NOTIFICATION_RETRY_DEADLINE_SECONDS
    # after the row was queued, or resent); a message about an appointment also
    # gives up at the appointment's start.
    retry_until = models.DateTimeField(null=True, blank=True)
    # A worker owns the row until then; after it, another may pick it up.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        return f"{self.event} to {self.recipient_id} via {self.channel}: {self.status}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    TRANSIENT_ERROR = "transient_error", "Transient error (retried)"
    PERMANENT_ERROR = "permanent_error", "Permanent error"
    OPTED_OUT = "opted_out", "Recipient opted out"


class DeliveryAttempt(models.Model):
    """One provider call for one notification: when, how long, and what came back."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField(help_text="1 for the first call of this notification.")
    provider = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    provider_message_id = models.CharField(max_length=128, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["notification_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="delivery_attempt_once_per_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.get_outcome_display()}"

    @property
    def duration_ms(self) -> int:
        return round((self.finished_at - self.started_at).total_seconds() * 1000)


def default_reminder_offsets() -> list[int]:
    return [1440, 120]


def validate_reminder_offsets(value) -> None:
    if not isinstance(value, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in value):
        raise ValidationError("Give a list of whole minutes, for example [1440, 120].")
    if len(value) > 5:
        raise ValidationError("At most five reminders per booking.")
    if len(set(value)) != len(value) or not all(5 <= m <= 30 * 24 * 60 for m in value):
        raise ValidationError("Each reminder is between 5 minutes and 30 days before the start, without repeats.")


class SalonNotificationSettings(models.Model):
    """What a salon's customers and staff are told besides the booking's own steps.

    A salon without a row uses the defaults (``for_salon``).
    """

    salon = models.OneToOneField("salons.Salon", on_delete=models.CASCADE, related_name="notification_settings")
    reminder_offsets_minutes = models.JSONField(
        "reminders (minutes before the start)",
        default=default_reminder_offsets,
        validators=[validate_reminder_offsets],
        help_text="The customer gets one reminder at each; the staff member at the shortest.",
    )
    quiet_hours_start = models.TimeField(default=time(22, 0), help_text="Salon local time.")
    quiet_hours_end = models.TimeField(
        default=time(8, 0), help_text="Salon local time. Equal to the start: no quiet hours."
    )
    send_completed = models.BooleanField("send the thank-you after a visit", default=True)
    review_url = models.URLField("review link in the thank-you", blank=True)
    send_no_show = models.BooleanField("send the no-show notice", default=True)

    class Meta:
        verbose_name = "salon message settings"
        verbose_name_plural = "salon message settings"

    def __str__(self) -> str:
        return f"Message settings of {self.salon}"

    @classmethod
    def for_salon(cls, salon) -> "SalonNotificationSettings":
        """The salon's settings, or unsaved defaults (no query if loaded with select_related)."""
        try:
            return salon.notification_settings
        except cls.DoesNotExist:
            return cls(salon=salon)


class ReplyAction(models.TextChoices):
    KEEP = "keep", "I'll be there"
    CANCEL = "cancel", "Cancel"
    CONFIRM = "confirm", "Confirm"
    DECLINE = "decline", "Decline"
    STOP = "stop", "Stop messages"


class InboundOutcome(models.TextChoices):
    DONE = "done", "Done"
    REFUSED = "refused", "Refused by the booking rules"
    IGNORED = "ignored", "Ignored (not a valid reply)"
    OPTED_OUT = "opted_out", "Opted out"
    STORED = "stored", "Stored (a text message)"


class InboundMessage(models.Model):
    """A message a person sent us (a quick-reply button, or text), stored once per
    provider message id: providers redeliver webhooks, a replay changes nothing."""

    provider = models.CharField(max_length=32)
    provider_message_id = models.CharField(max_length=128)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    phone = models.CharField("sender", max_length=32)
    text = models.TextField(blank=True)
    button_text = models.CharField(max_length=128, blank=True)
    button_payload = models.CharField(max_length=256, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    # The booking the reply acted on, or the sender's latest booking for a text.
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    salon = models.ForeignKey(
        "salons.Salon", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    action = models.CharField(max_length=16, choices=ReplyAction.choices, blank=True)
    outcome = models.CharField(max_length=16, choices=InboundOutcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_message_id"], name="inbound_once_per_message"),
        ]
        indexes = [models.Index(fields=["salon", "-received_at"], name="inbound_salon_received")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} from {self.phone}: {self.button_text or self.text[:40]}"
