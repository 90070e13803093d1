"""A customer waiting for a time that is booked, and the offers made to them when
such a time is freed."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a time")
    BOOKED = "booked", _("Booked")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


# Entries still on the list: a freed time may be offered to them.
ON_THE_LIST = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistEntry(models.Model):
    """A customer who wants ``service`` at ``salon`` on ``date`` (salon local),
    starting and ending within [window_start, window_end] (salon local times), with
    ``staff`` or anyone who performs it. Written by ``apps.waitlist.services``;
    offers by ``apps.waitlist.offers``."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("customer")
    )
    salon = models.ForeignKey(
        "salons.Salon", on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("salon")
    )
    service = models.ForeignKey(
        "salons.Service", on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("service")
    )
    # Empty: anyone who performs the service.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist_entries_for_me",
        verbose_name=_("staff member"),
    )
    date = models.DateField(verbose_name=_("date"))
    window_start = models.TimeField(verbose_name=_("from"))
    window_end = models.TimeField(verbose_name=_("until"))
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING, verbose_name=_("status")
    )
    # The booking a claim made.
    booking = models.ForeignKey(
        "bookings.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("joined at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("waiting list entry")
        verbose_name_plural = _("waiting list")
        ordering = ["date", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")),
                name="waitlist_window_ends_after_it_starts",
                violation_error_message="The window must end after it starts.",
            ),
        ]
        indexes = [
            # A freed time looks for the entries on the list for its salon and day, oldest first.
            models.Index(
                fields=["salon", "date", "created_at"],
                condition=models.Q(status__in=["waiting", "offered"]),
                name="waitlist_on_the_list",
            ),
            models.Index(fields=["customer", "created_at"], name="waitlist_customer_joined"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.date} {self.window_start:%H:%M}-{self.window_end:%H:%M}"

    @property
    def on_the_list(self) -> bool:
        return self.status in ON_THE_LIST


class WaitlistOffer(models.Model):
    """A freed time offered to one entry: ``start`` with ``staff``, claimable from
    ``valid_from`` (later than its writing when it was freed in quiet hours) until
    ``expires_at``. Once per entry, freed booking and start."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("entry"))
    # The booking whose time was freed (cancelled, declined, moved away), or the
    # booking nearest to time off that was removed: the messages are filed under it.
    freed_booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="+", verbose_name=_("freed booking")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff member")
    )
    start = models.DateTimeField(verbose_name=_("start"))
    valid_from = models.DateTimeField(verbose_name=_("valid from"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    # Set when the offer ended before it expired: its time was taken (claimed, or booked otherwise).
    taken_at = models.DateTimeField(null=True, blank=True, verbose_name=_("taken at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("waiting list offer")
        verbose_name_plural = _("waiting list offers")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "freed_booking", "start"], name="waitlist_offer_once_per_slot"),
        ]

    def __str__(self) -> str:
        return f"offer #{self.pk} for entry #{self.entry_id}"

    def is_live(self, now) -> bool:
        """Claimable at ``now`` as far as the offer itself goes (not yet taken or expired)."""
        return self.taken_at is None and self.valid_from <= now < self.expires_at
