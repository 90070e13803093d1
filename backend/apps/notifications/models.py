from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.common.channels import Channel, MessageClass


class NotificationEvent(models.TextChoices):
    BOOKING_CREATED = "booking_created", _("Booking created")
    BOOKING_CONFIRMED = "booking_confirmed", _("Booking confirmed")
    BOOKING_CANCELLED = "booking_cancelled", _("Booking cancelled")
    BOOKING_RESCHEDULED = "booking_rescheduled", _("Booking rescheduled")
    BOOKING_REMINDER = "booking_reminder", _("Booking reminder")
    BOOKING_COMPLETED = "booking_completed", _("Booking completed (thank-you)")
    BOOKING_NO_SHOW = "booking_no_show", _("Booking no-show")
    REPLY_ANSWER = "reply_answer", _("Answer to a reply")
    WAITLIST_OFFER = "waitlist_offer", _("Waiting list offer")
    BOOKING_DISRUPTED = "booking_disrupted", _("Booking disrupted (closure or time off)")
    STAFF_AGENDA = "staff_agenda", _("Staff member's agenda")


# The one table of what each event is (SPEC: booking_completed, the thank-you, is promotional).
EVENT_CLASS = {
    NotificationEvent.BOOKING_CREATED: MessageClass.SERVICE,
    NotificationEvent.BOOKING_CONFIRMED: MessageClass.SERVICE,
    NotificationEvent.BOOKING_CANCELLED: MessageClass.SERVICE,
    NotificationEvent.BOOKING_RESCHEDULED: MessageClass.SERVICE,
    NotificationEvent.BOOKING_REMINDER: MessageClass.SERVICE,
    NotificationEvent.BOOKING_COMPLETED: MessageClass.PROMOTIONAL,
    NotificationEvent.BOOKING_NO_SHOW: MessageClass.SERVICE,
    NotificationEvent.REPLY_ANSWER: MessageClass.SERVICE,
    NotificationEvent.WAITLIST_OFFER: MessageClass.SERVICE,
    NotificationEvent.BOOKING_DISRUPTED: MessageClass.SERVICE,
    NotificationEvent.STAFF_AGENDA: MessageClass.SERVICE,
}


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Audience(models.TextChoices):
    """Whom a booking message is written for."""

    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff member")


class SkipReason(models.TextChoices):
    """Why a message was not sent: stored as the code in ``Notification.reason``."""

    NO_PHONE = "no_phone", _("The recipient has no phone number.")
    OPTED_OUT = "opted_out", _("The recipient opted out of this channel.")
    APPOINTMENT_STARTED = "appointment_started", _("The appointment started before this message could be sent.")
    BOOKING_MOVED = "booking_moved", _("The booking was moved after this message was written; its new time is told.")
    BOOKING_NOT_ACTIVE = "booking_not_active", _("The booking is no longer pending or confirmed.")
    QUIET_HOURS = "quiet_hours", _("Quiet hours: no allowed moment was left before this reminder.")
    ANSWER_LIMIT = "answer_limit", _("Too many answers to this person about this booking this hour.")
    NO_CONSENT = "no_consent", _("A promotional message, and the person has not agreed to them on this channel.")
    EXPIRED = "expired", _("A promotional message that could not go out within 24 hours of being due.")
    NO_PROMOTIONAL_ROUTE = (
        "no_promotional_route",
        _("No provider may send promotional SMS (never Twilio; a sender ending in -AD is needed)."),
    )
    WHATSAPP_UNREACHABLE = "whatsapp_unreachable", _("Not reachable on WhatsApp for now: sent by SMS instead.")
    TEMPLATE_UNAVAILABLE = (
        "template_unavailable",
        _("The WhatsApp template is paused, disabled or rejected: sent by SMS instead."),
    )
    PERSON_ERASED = "person_erased", _("The person's data was erased before this message was sent.")
    OFFER_CLOSED = (
        "offer_closed",
        _("The waiting list offer expired, its entry closed or its time was taken before it could be sent."),
    )
    DAY_BEGAN = "day_began", _("The agenda's day began before it could be sent.")


class Reroute(models.TextChoices):
    """Why a message went by SMS although the person prefers WhatsApp ("" when it did not)."""

    NONE = "", _("As preferred")
    WHATSAPP_FAILED = "whatsapp_failed", _("WhatsApp failed")
    WHATSAPP_UNREACHABLE = "whatsapp_unreachable", _("Not reachable on WhatsApp")
    TEMPLATE_UNAVAILABLE = "template_unavailable", _("WhatsApp template unavailable")
    TEMPLATE_MARKETING = "template_marketing", _("WhatsApp template now marketing")


class DeliveryStage(models.TextChoices):
    """What a provider reported after accepting a message (delivery reports)."""

    ACCEPTED = "accepted", _("Accepted")
    SCHEDULED = "scheduled", _("Scheduled")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    FAILED = "failed", _("Failed")
    READ = "read", _("Read")

    @property
    def rank(self) -> int:
        """Later stages win: a report for an earlier stage than the recorded one changes nothing."""
        return STAGE_RANKS[self]

    @property
    def is_failure(self) -> bool:
        return self in (DeliveryStage.UNDELIVERED, DeliveryStage.FAILED)


STAGE_RANKS = {
    DeliveryStage.ACCEPTED: 0,
    DeliveryStage.SCHEDULED: 0,
    DeliveryStage.QUEUED: 1,
    DeliveryStage.SENDING: 1,
    DeliveryStage.SENT: 2,
    DeliveryStage.DELIVERED: 3,
    DeliveryStage.UNDELIVERED: 3,
    DeliveryStage.FAILED: 3,
    DeliveryStage.READ: 4,
}


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
    message_class = models.CharField(
        max_length=16, choices=MessageClass.choices, default=MessageClass.SERVICE, verbose_name=_("class")
    )
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
    # A waiting list offer (event waitlist_offer): the booking above is the one whose time was freed.
    waitlist_offer = models.ForeignKey(
        "waitlist.WaitlistOffer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("waiting list offer"),
    )
    # A staff member's agenda (event staff_agenda): the day it lists; the booking above is its first.
    agenda_date = models.DateField(null=True, blank=True, verbose_name=_("agenda of"))
    # The WhatsApp message this SMS replaces (it failed, or could not be tried): one each.
    fallback_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fallback",
        verbose_name=_("fallback of"),
    )
    reroute = models.CharField(
        max_length=24, choices=Reroute.choices, blank=True, default="", verbose_name=_("why by SMS")
    )
    # What the provider reported after accepting the message (delivery reports).
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStage.choices, blank=True, verbose_name=_("delivery status")
    )
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
                condition=~models.Q(
                    event__in=[
                        "booking_rescheduled",
                        "booking_reminder",
                        "reply_answer",
                        "waitlist_offer",
                        "booking_disrupted",
                        "staff_agenda",
                    ]
                ),
                name="notification_once_per_booking_recipient_event_channel",
            ),
            models.UniqueConstraint(
                fields=["booking", "recipient", "event", "channel", "sequence", "reminder_offset_minutes"],
                condition=~models.Q(event__in=["reply_answer", "waitlist_offer", "staff_agenda"]),
                name="notification_once_per_move_and_offset",
            ),
            # A waiting list offer is told once per channel (its SMS twin has its own).
            models.UniqueConstraint(
                fields=["waitlist_offer", "channel"],
                condition=models.Q(event="waitlist_offer"),
                name="notification_offer_once_per_channel",
            ),
            # One agenda per staff member and day, whatever the number of beats or reruns
            # (the SMS that replaces a failed WhatsApp agenda points back to it).
            models.UniqueConstraint(
                fields=["recipient", "agenda_date"],
                condition=models.Q(event="staff_agenda", fallback_of__isnull=True),
                name="notification_agenda_once_per_staff_and_day",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status_created")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} ({self.get_channel_display()}): {self.get_status_display()}"


class SmsEncoding(models.TextChoices):
    GSM7 = "gsm7", _("GSM-7")
    UCS2 = "ucs2", _("UCS-2")


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
    # SMS only: what the text costs by our count (GSM 03.38 / UCS-2), and what the
    # provider reported it billed, where it says.
    encoding = models.CharField(max_length=8, choices=SmsEncoding.choices, blank=True, verbose_name=_("encoding"))
    segments = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("segments"))
    provider_segments = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("segments billed by the provider")
    )
    price = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True, verbose_name=_("price"))
    price_unit = models.CharField(max_length=8, blank=True, verbose_name=_("price unit"))

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


class TemplateStatus(models.TextChoices):
    """A WhatsApp template's state at Meta (``message_template_status_update``)."""

    APPROVED = "APPROVED", _("Approved")
    PENDING = "PENDING", _("Pending review")
    REJECTED = "REJECTED", _("Rejected")
    FLAGGED = "FLAGGED", _("Flagged (quality dropping)")
    PAUSED = "PAUSED", _("Paused")
    DISABLED = "DISABLED", _("Disabled")
    IN_APPEAL = "IN_APPEAL", _("In appeal")
    PENDING_DELETION = "PENDING_DELETION", _("Pending deletion")
    DELETED = "DELETED", _("Deleted")
    ARCHIVED = "ARCHIVED", _("Archived")
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", _("Limit exceeded")


# A message with a template in one of these states is not tried on WhatsApp.
UNUSABLE_TEMPLATE_STATUSES = frozenset(
    {
        TemplateStatus.REJECTED,
        TemplateStatus.PAUSED,
        TemplateStatus.DISABLED,
        TemplateStatus.PENDING_DELETION,
        TemplateStatus.DELETED,
        TemplateStatus.ARCHIVED,
    }
)


class TemplateCategory(models.TextChoices):
    UTILITY = "UTILITY", _("Utility")
    MARKETING = "MARKETING", _("Marketing")
    AUTHENTICATION = "AUTHENTICATION", _("Authentication")


class TemplateQuality(models.TextChoices):
    GREEN = "GREEN", _("High")
    YELLOW = "YELLOW", _("Medium")
    RED = "RED", _("Low")
    UNKNOWN = "UNKNOWN", _("Unknown")


class WhatsAppTemplate(models.Model):
    """What Meta last told us about one template in one language.

    Kept from Meta's template webhooks; a template we never heard about is taken
    as usable (it was approved before this table existed). A superuser may set a
    state by hand in the admin.
    """

    name = models.CharField(max_length=512, verbose_name=_("name"))
    language = models.CharField(max_length=16, verbose_name=_("language"))
    status = models.CharField(
        max_length=24, choices=TemplateStatus.choices, default=TemplateStatus.APPROVED, verbose_name=_("status")
    )
    category = models.CharField(max_length=24, choices=TemplateCategory.choices, blank=True, verbose_name=_("category"))
    quality = models.CharField(max_length=16, choices=TemplateQuality.choices, blank=True, verbose_name=_("quality"))
    meta_template_id = models.CharField(max_length=64, blank=True, verbose_name=_("Meta template id"))
    reason = models.CharField(max_length=300, blank=True, verbose_name=_("reason given"))
    # When Meta said it (the webhook entry's time): an older report never overwrites a newer one.
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="whatsapp_template_once_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}): {self.get_status_display()}"

    @property
    def usable(self) -> bool:
        return self.status not in UNUSABLE_TEMPLATE_STATUSES


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
    # Promotional messages go out only inside the day's promotional window (PROMOTIONAL_HOURS);
    # a salon may narrow it, never widen it. Empty: the whole window.
    promotional_start = models.TimeField(
        null=True, blank=True, help_text=_("Salon local time."), verbose_name=_("promotional messages from")
    )
    promotional_end = models.TimeField(
        null=True, blank=True, help_text=_("Salon local time."), verbose_name=_("promotional messages until")
    )
    # Each staff member with bookings the next day gets their agenda at this time (salon local).
    staff_agenda_time = models.TimeField(
        default=time(21, 0), help_text=_("Salon local time."), verbose_name=_("staff agenda at")
    )

    class Meta:
        verbose_name = _("salon message settings")
        verbose_name_plural = _("salon message settings")

    def __str__(self) -> str:
        return _("Message settings of %(salon)s") % {"salon": self.salon}

    def clean(self):
        super().clean()
        from apps.notifications.promotional import promotional_hours

        start, end = promotional_hours()
        mine = (self.promotional_start or start, self.promotional_end or end)
        if not (start <= mine[0] < mine[1] <= end):
            raise ValidationError(
                _("Promotional hours must lie within %(start)s-%(end)s and end after they start.")
                % {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
            )

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
    BOOK = "book", _("Book it (waiting list)")
    MOVE = "move", _("Move to this time")
    OTHER_TIMES = "other_times", _("Other times")


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


class ConsentSource(models.TextChoices):
    API = "api", _("The app")
    ADMIN = "admin", _("At the salon")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS_LINK = "sms_link", _("The link in an SMS")


class MarketingConsent(models.Model):
    """One decision of a person about promotional messages on one channel: given or
    withdrawn, when, how, and the exact words they were shown. Append-only: the
    latest row per person and channel is the state, and nobody has consent until
    they give it. Written only by ``apps.notifications.consent.consent_record``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketing_consents", verbose_name=_("person")
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    granted = models.BooleanField(verbose_name=_("granted"))
    at = models.DateTimeField(default=timezone.now, verbose_name=_("when"))
    source = models.CharField(max_length=16, choices=ConsentSource.choices, verbose_name=_("source"))
    wording = models.TextField(verbose_name=_("wording shown"))
    version = models.CharField(max_length=32, verbose_name=_("wording version"))
    # Who recorded it for the person (a manager at the salon); empty when they did it themselves.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("marketing consent")
        verbose_name_plural = _("marketing consents")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "channel", "-at", "-id"], name="consent_latest_per_channel")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {_('granted') if self.granted else _('withdrawn')} ({self.at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent rows are never changed: record a new one.")
        super().save(*args, **kwargs)
