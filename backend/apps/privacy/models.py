from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The implementing regulation (article 3): a request is answered within 30 days.
ANSWER_WITHIN = timedelta(days=30)


class DataRequestKind(models.TextChoices):
    EXPORT = "export", _("Copy of their data (export)")
    ERASURE = "erasure", _("Erasure")
    CORRECTION = "correction", _("Correction")
    OTHER = "other", _("Other")


# What a person may ask for with POST /api/me/data-requests/ (export and erasure
# have endpoints of their own, answered at once).
REQUESTABLE_KINDS = (DataRequestKind.CORRECTION, DataRequestKind.OTHER)
REQUESTABLE_KIND_CHOICES = [(kind.value, kind.label) for kind in REQUESTABLE_KINDS]


class DataRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(completed_at__isnull=True)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class DataRequest(models.Model):
    """A person's request about their personal data, and how it was answered: the
    log the implementing regulation asks for. Exports and erasures are answered at
    once (``handled_by`` empty); corrections and other requests by a superuser
    within 30 days (``due_at``). An erasure's row keeps no erased data: its user is
    the anonymous account that remains."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="data_requests",
        verbose_name=_("person"),
    )
    kind = models.CharField(max_length=16, choices=DataRequestKind.choices, verbose_name=_("kind"))
    details = models.TextField(blank=True, max_length=2000, verbose_name=_("details"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    due_at = models.DateTimeField(verbose_name=_("answer due by"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_data_requests",
        help_text="Empty: answered automatically.",
        verbose_name=_("handled by"),
    )
    resolution = models.TextField(blank=True, max_length=2000, verbose_name=_("what was done"))

    objects = DataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data request")
        verbose_name_plural = _("personal data requests")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-received_at"], name="data_request_user_received"),
            models.Index(fields=["due_at"], condition=Q(completed_at__isnull=True), name="data_request_open_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("received_at")), name="data_request_due_after_received"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.received_at:%Y-%m-%d})"

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_at < timezone.now()
