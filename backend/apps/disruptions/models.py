"""A booking the salon cannot keep (it closed that day, or its staff member is off),
and what became of it."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Booking.cancellation_reason of a booking the salon cancelled because it could not keep it.
SALON_CLOSED = "salon_closed"


class DisruptionCause(models.TextChoices):
    CLOSURE = "closure", _("Salon closed")
    TIME_OFF = "time_off", _("Staff member off")


class DisruptionOutcome(models.TextChoices):
    OPEN = "open", _("Waiting for the customer")
    MOVED = "moved", _("Moved by the customer")
    CANCELLED = "cancelled", _("Cancelled by the customer")
    CANCELLED_BY_SALON = "cancelled_by_salon", _("Cancelled by the salon (no answer)")
    RESOLVED = "resolved", _("Changed otherwise, or no longer disrupted")


class BookingDisruption(models.Model):
    """One booking caught by a closure or time off: the alternatives its customer was
    offered, and when the salon cancels it if nobody answers. At most one open per
    booking. Written by ``apps.disruptions.services``."""

    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="disruptions", verbose_name=_("booking")
    )
    salon = models.ForeignKey(
        "salons.Salon", on_delete=models.CASCADE, related_name="disruptions", verbose_name=_("salon")
    )
    cause = models.CharField(max_length=16, choices=DisruptionCause.choices, verbose_name=_("cause"))
    closure = models.ForeignKey(
        "salons.SalonClosure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disruptions",
        verbose_name=_("closure"),
    )
    time_off = models.ForeignKey(
        "salons.StaffTimeOff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disruptions",
        verbose_name=_("time off"),
    )
    reason = models.CharField(max_length=120, blank=True, verbose_name=_("reason"))
    # The booking's move number when it was disrupted: a later move resolves it.
    move = models.PositiveIntegerField(default=0, verbose_name=_("move"))
    # [{"staff": id, "staff_name": ..., "start": ISO 8601 UTC}], nearest first, as offered.
    alternatives = models.JSONField(default=list, blank=True, verbose_name=_("alternatives offered"))
    cancel_at = models.DateTimeField(verbose_name=_("cancelled if unanswered at"))
    outcome = models.CharField(
        max_length=20, choices=DisruptionOutcome.choices, default=DisruptionOutcome.OPEN, verbose_name=_("outcome")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("disrupted booking")
        verbose_name_plural = _("disrupted bookings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"], condition=models.Q(outcome="open"), name="disruption_one_open_per_booking"
            ),
        ]
        indexes = [
            models.Index(fields=["cancel_at"], condition=models.Q(outcome="open"), name="disruption_open_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()}: booking #{self.booking_id}"
