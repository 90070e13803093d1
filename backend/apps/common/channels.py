"""The vocabularies of messages shared by accounts (a person's preferred channel and
opt-outs), notifications (each row's channel and class) and the provider adapters:
channels and message classes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class MessageClass(models.TextChoices):
    """What a message is, in the Saudi rules' sense: a service message (the booking
    itself, reminders, answers) may go whenever the person can be told; a
    promotional one needs their consent on its channel, daytime hours, a
    registered ``-AD`` sender on SMS and an opt-out; authentication is a login code."""

    SERVICE = "service", _("Service")
    PROMOTIONAL = "promotional", _("Promotional")
    AUTHENTICATION = "authentication", _("Authentication")
