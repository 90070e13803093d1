"""The one vocabulary of message channels, used by accounts (a person's preferred
channel and opt-outs), notifications (each row's channel) and the provider adapters."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
