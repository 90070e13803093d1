"""Start-up checks of the promotional-message settings (Saudi CST rules: a
registered sender ending in -AD, never through Twilio, daytime hours).

They run as Django system checks (`manage.py check`, `make deploy-check`) and
when any process starts (``NotificationsConfig.ready``): a web server or worker
with a promotional sender that does not end in ``-AD`` refuses to start.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


def promotional_setting_errors() -> list[Error]:
    from apps.notifications.promotional import promotional_hours, promotional_sms_provider

    errors = []
    sender = settings.SMS_PROMOTIONAL_SENDER_ID
    if sender and not sender.endswith("-AD"):
        errors.append(
            Error(
                f"SMS_PROMOTIONAL_SENDER_ID must be a registered sender name ending in -AD, not {sender!r}.",
                hint="Saudi CST rules: promotional SMS go from a sender name ending in -AD.",
                id="notifications.E001",
            )
        )
    provider = promotional_sms_provider()
    if settings.PROMOTIONAL_SMS_ENABLED and provider not in ("", "console") and not sender:
        errors.append(
            Error(
                f"Promotional SMS are on and go through {provider!r}, but SMS_PROMOTIONAL_SENDER_ID is not set.",
                hint="Set the registered -AD sender, or PROMOTIONAL_SMS_ENABLED=0.",
                id="notifications.E002",
            )
        )
    if settings.NOTIFICATION_PROMOTIONAL_SMS_PROVIDER == "twilio":
        errors.append(
            Error(
                "NOTIFICATION_PROMOTIONAL_SMS_PROVIDER cannot be twilio (its Saudi traffic is for service messages).",
                id="notifications.E003",
            )
        )
    try:
        promotional_hours()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="notifications.E004"))
    return errors


@register("salon_messages")
def check_promotional_settings(app_configs=None, **kwargs) -> list[Error]:
    return promotional_setting_errors()


def refuse_to_start_on_bad_promotional_settings() -> None:
    errors = promotional_setting_errors()
    if errors:
        raise ImproperlyConfigured("; ".join(f"{error.id}: {error.msg}" for error in errors))
