"""The one vocabulary of message channels, used by accounts (a person's preferred
channel and opt-outs), notifications (each row's channel) and the provider adapters."""

from django.db import models


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
