import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(zone)s is not a known time zone (for example Asia/Riyadh).") % {"zone": repr(value)})


def default_time_zone() -> str:
    return settings.SALON_DEFAULT_TIME_ZONE


class Salon(models.Model):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    name_ar = models.CharField(_("Arabic name"), max_length=120, blank=True)
    address = models.CharField(max_length=255, blank=True, verbose_name=_("address"))
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone], verbose_name=_("time zone")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("salon")
        verbose_name_plural = _("salons")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.display_name(get_language() or "en")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def display_name(self, language: str) -> str:
        return self.name_ar if language == "ar" and self.name_ar else self.name


# A booking holds its staff member for at most this long (duration + buffer): the
# staff day's query only looks this far before a day for bookings reaching into it.
MAX_DURATION_MINUTES = 600
MAX_BUFFER_MINUTES = 120
MAX_BOOKING_SPAN = timedelta(minutes=MAX_DURATION_MINUTES + MAX_BUFFER_MINUTES)


class Service(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.PROTECT, related_name="services", verbose_name=_("salon"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    name_ar = models.CharField(_("Arabic name"), max_length=120, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(MAX_DURATION_MINUTES)], verbose_name=_("duration (minutes)")
    )
    price = models.DecimalField(
        _("price (SAR)"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_BUFFER_MINUTES)],
        help_text=_("Time kept free after each appointment (cleaning, preparation)."),
        verbose_name=_("buffer (minutes)"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    staff_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="services_performed",
        blank=True,
        limit_choices_to={"role__in": ["staff", "manager"]},
        help_text=_("Staff members of this salon who perform the service."),
        verbose_name=_("staff members"),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["salon_id", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__gte=5), name="service_duration_at_least_5"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__lte=MAX_DURATION_MINUTES), name="service_duration_at_most_600"
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=MAX_BUFFER_MINUTES), name="service_buffer_at_most_120"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_not_negative"),
        ]

    def __str__(self) -> str:
        language = get_language() or "en"
        return f"{self.display_name(language)} ({self.salon.display_name(language)})"

    def display_name(self, language: str) -> str:
        return self.name_ar if language == "ar" and self.name_ar else self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One interval of a staff member's weekly hours, in the salon's local time.

    Several intervals per weekday make a split shift.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("staff")
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, verbose_name=_("weekday"))
    start_time = models.TimeField(verbose_name=_("start time"))
    end_time = models.TimeField(verbose_name=_("end time"))

    class Meta:
        verbose_name = _("working hours")
        ordering = ["staff_id", "weekday", "start_time"]
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="working_hours_end_after_start",
                violation_error_message=_("End time must be after start time."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class SalonClosure(models.Model):
    """Whole local days the salon is closed (a holiday such as Eid)."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="closures", verbose_name=_("salon"))
    start_date = models.DateField(verbose_name=_("start date"))
    end_date = models.DateField(help_text=_("Last closed day (inclusive)."), verbose_name=_("end date"))
    reason = models.CharField(max_length=120, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("salon closure")
        verbose_name_plural = _("salon closures")
        ordering = ["salon_id", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="closure_end_not_before_start",
                violation_error_message=_("The last closed day cannot be before the first."),
            ),
        ]

    def __str__(self) -> str:
        text = _("%(salon)s closed %(first)s to %(last)s") % {
            "salon": self.salon,
            "first": self.start_date.isoformat(),
            "last": self.end_date.isoformat(),
        }
        return f"{text} {self.reason}".strip()


class StaffTimeOff(models.Model):
    """A staff member's absence: a day off, leave, or a few hours."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("staff")
    )
    start = models.DateTimeField(verbose_name=_("start"))
    end = models.DateTimeField(verbose_name=_("end"))
    reason = models.CharField(max_length=120, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("staff time off")
        ordering = ["staff_id", "start"]
        verbose_name_plural = _("staff time off")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")),
                name="time_off_end_after_start",
                violation_error_message=_("End must be after start."),
            ),
        ]

    def __str__(self) -> str:
        return _("%(staff)s off %(start)s to %(end)s") % {
            "staff": self.staff,
            "start": f"{timezone.localtime(self.start):%Y-%m-%d %H:%M}",
            "end": f"{timezone.localtime(self.end):%Y-%m-%d %H:%M}",
        }
