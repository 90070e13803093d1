from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.common.channels import Channel
from apps.common.errors import InvalidInput
from apps.common.phones import normalize_mobile


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    ENGLISH = "en", _("English")


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, phone, password, **extra):
        phone = normalize_mobile(phone) if phone else None
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, phone=None, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(phone, password, **extra)

    def salon_people(self, salon_id: int | None):
        """The active staff members and managers of a salon (choice lists in the admin)."""
        return self.filter(salon_id=salon_id, role__in=[Role.STAFF, Role.MANAGER], is_active=True)

    def create_superuser(self, phone, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: customer, staff member or manager, identified by a mobile number.

    ``phone`` is E.164 and may be empty for staff and managers created in the
    admin before their number is known (they then receive no messages).
    """

    phone = models.CharField(max_length=16, unique=True, null=True, blank=True, verbose_name=_("phone"))
    name = models.CharField(max_length=150, blank=True, verbose_name=_("name"))
    preferred_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.ARABIC, verbose_name=_("preferred language")
    )
    # Blank: NOTIFICATION_DEFAULT_CHANNEL decides.
    preferred_channel = models.CharField(
        max_length=16, choices=Channel.choices, blank=True, verbose_name=_("preferred channel")
    )
    # Set when the person replied STOP on that channel; they may opt back in at /api/me/.
    sms_opted_out = models.BooleanField(default=False, verbose_name=_("SMS opted out"))
    whatsapp_opted_out = models.BooleanField(default=False, verbose_name=_("WhatsApp opted out"))
    # Set when WhatsApp said this number cannot get our messages (not on WhatsApp):
    # until then their messages go by SMS with no WhatsApp call. Cleared when they
    # write to us on WhatsApp or a WhatsApp message to them is delivered.
    whatsapp_unreachable_until = models.DateTimeField(
        null=True, blank=True, verbose_name=_("not reachable on WhatsApp until")
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER, verbose_name=_("role"))
    salon = models.ForeignKey(
        "salons.Salon",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        help_text=_("The salon a staff member or manager belongs to."),
        verbose_name=_("salon"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    is_staff = models.BooleanField(
        default=False, help_text=_("May log in to the Django admin."), verbose_name=_("admin access")
    )
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="customer") | models.Q(salon__isnull=False),
                name="staff_and_managers_belong_to_a_salon",
                violation_error_message=_("Staff members and managers must belong to a salon."),
            ),
        ]

    def __str__(self) -> str:
        # The phone is isolated left-to-right (U+2066..U+2069) so that an Arabic
        # name beside it cannot reorder its digits on a right-to-left page.
        return f"{self.name or _('(no name)')} (\u2066{self.phone or _('no phone')}\u2069)"

    def get_short_name(self) -> str:
        return self.name or self.phone or ""

    def clean(self):
        super().clean()
        if self.phone:
            try:
                self.phone = normalize_mobile(self.phone)
            except InvalidInput as exc:
                raise ValidationError({"phone": exc.message}) from None

    def opted_out_of(self, channel: str) -> bool:
        return self.whatsapp_opted_out if channel == Channel.WHATSAPP else self.sms_opted_out

    @property
    def managed_salon_id(self) -> int | None:
        """The salon this person runs in the admin (a manager's); None for anyone else."""
        return self.salon_id if self.role == Role.MANAGER and not self.is_superuser else None

    def whatsapp_unreachable(self, now) -> bool:
        return self.whatsapp_unreachable_until is not None and self.whatsapp_unreachable_until > now


class OneTimeCode(models.Model):
    """A login code sent to a phone. Only a keyed hash of the code is stored."""

    phone = models.CharField(max_length=16, db_index=True, verbose_name=_("phone"))
    code_hash = models.CharField(max_length=64, verbose_name=_("code hash"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    failed_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("failed attempts"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))

    class Meta:
        verbose_name = _("one time code")
        verbose_name_plural = _("one time codes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone", "-created_at"], name="otp_phone_recent")]

    def __str__(self) -> str:
        return f"code for {self.phone} at {self.created_at:%Y-%m-%d %H:%M}"


class LoginCodeBudget(models.Model):
    """Login codes sent in one window of the global budget (OTP_REQUEST_RATE_GLOBAL),
    across all phones and addresses: counted with one conditional UPDATE."""

    window_start = models.DateTimeField(unique=True, verbose_name=_("window start"))
    codes_sent = models.PositiveIntegerField(default=0, verbose_name=_("codes sent"))

    class Meta:
        verbose_name = _("login code budget")
        verbose_name_plural = _("login code budgets")
        ordering = ["-window_start"]

    def __str__(self) -> str:
        return f"{self.codes_sent} codes from {self.window_start:%Y-%m-%d %H:%M}"
