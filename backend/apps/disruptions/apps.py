from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisruptionsConfig(AppConfig):
    name = "apps.disruptions"
    verbose_name = _("disruptions")
    label = "disruptions"

    def ready(self):
        from apps.disruptions import tasks  # noqa: F401  (registered with Celery in every process)
