from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    verbose_name = _("messages")
    label = "notifications"

    def ready(self):
        # Register the tasks with the Celery app in every process (web included),
        # so that delivery publishes them by name without importing this module.
        from apps.common.metrics import register_outbox_reader
        from apps.notifications import tasks  # noqa: F401
        from apps.notifications.checks import refuse_to_start_on_bad_promotional_settings
        from apps.notifications.selectors import outbox_state

        register_outbox_reader(outbox_state)
        refuse_to_start_on_bad_promotional_settings()
