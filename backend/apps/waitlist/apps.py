from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitlistConfig(AppConfig):
    name = "apps.waitlist"
    verbose_name = _("waiting list")
    label = "waitlist"

    def ready(self):
        from apps.waitlist import tasks  # noqa: F401  (registered with Celery in every process)
