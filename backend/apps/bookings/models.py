from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")


class CancellationReason(models.TextChoices):
    """Why a booking was cancelled, when it is one of the usual reasons. The column
    ``Booking.cancellation_reason`` holds one of these codes, or the words a person
    wrote, or nothing. Messages name a code in the reader's language
    (``notifications.messages``); written words go as written."""

    CUSTOMER_REQUEST = "customer_request", _("The customer asked to cancel")
    STAFF_UNAVAILABLE = "staff_unavailable", _("The staff member is not available")
    SALON_CLOSED = "salon_closed", _("The salon is closed")
    STAFF_DECLINED = "staff_declined", _("Declined by the salon")
    DUPLICATE = "duplicate", _("Booked twice")


# Bookings that hold their staff member's time.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)

# The status machine (SPEC.md section 4): every other change is refused.
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    BookingStatus.PENDING: (BookingStatus.CONFIRMED, BookingStatus.CANCELLED),
    BookingStatus.CONFIRMED: (BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED),
    BookingStatus.CANCELLED: (),
    BookingStatus.COMPLETED: (),
    BookingStatus.NO_SHOW: (),
}


class Booking(models.Model):
    salon = models.ForeignKey(
        "salons.Salon", on_delete=models.PROTECT, related_name="bookings", db_index=False, verbose_name=_("salon")
    )
    service = models.ForeignKey(
        "salons.Service", on_delete=models.PROTECT, related_name="bookings", verbose_name=_("service")
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customer_bookings",
        db_index=False,
        verbose_name=_("customer"),
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_bookings",
        db_index=False,
        verbose_name=_("staff"),
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    # End plus the service's buffer: the staff member's time this booking holds.
    # The no-overlap rule (and PostgreSQL's exclusion constraint) is over [start, busy_until).
    busy_until = models.DateTimeField(verbose_name=_("busy until"))
    status = models.CharField(
        max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING, verbose_name=_("status")
    )
    note = models.TextField(max_length=500, blank=True, verbose_name=_("note"))
    # Why it was cancelled, when the salon said (a staff member's "Decline").
    cancellation_reason = models.CharField(max_length=200, blank=True, verbose_name=_("cancellation reason"))
    # The customer's own "I'll be there" (a WhatsApp reply); not the salon's confirmation.
    customer_confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("customer confirmed at"))
    # Counts moves of the booking; each move's notifications are keyed by it.
    reschedule_count = models.PositiveIntegerField(default=0, verbose_name=_("reschedule count"))
    # Reminders whose moment came before this (the booking was made or moved, or
    # its salon's reminder settings changed) are not sent.
    reminders_from = models.DateTimeField(default=timezone.now, verbose_name=_("reminders from"))
    # The earliest moment one of its reminders is due and not yet written; the
    # reminder scan reads this (indexed) column only. None: nothing left to remind.
    next_reminder_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next reminder at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        # The foreign keys to salon, customer and staff have no index of their own: these
        # serve every lookup by them, and a planner with stale statistics chose the
        # single-column one and filtered a staff member's every booking by time. The id
        # last: a list page (ORDER BY start, id LIMIT n) reads n rows in index order,
        # where with (x, start) a planner that had not seen a new customer's bookings
        # joined and sorted all of them.
        indexes = [
            models.Index(fields=["staff", "start", "id"], name="booking_staff_start_id"),
            models.Index(fields=["customer", "start", "id"], name="booking_customer_start_id"),
            models.Index(fields=["salon", "start", "id"], name="booking_salon_start_id"),
            models.Index(
                fields=["next_reminder_at"],
                condition=models.Q(next_reminder_at__isnull=False),
                name="booking_next_reminder",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=models.Q(busy_until__gte=models.F("end")), name="booking_busy_until_not_before_end"
            ),
        ]

    def __str__(self) -> str:
        # Reads the salon, the service and the customer: load them with the booking.
        when = timezone.localtime(self.start, self.salon.tz).strftime("%Y-%m-%d %H:%M")
        service = self.service.display_name(get_language() or "en")
        return f"{service}, {when}, {self.customer.name or self.customer.phone}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
