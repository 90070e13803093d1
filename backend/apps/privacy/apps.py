from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "apps.privacy"
    verbose_name = _("personal data")
    label = "privacy"

    def ready(self):
        from apps.privacy import tasks  # noqa: F401  (registers privacy.retention in every process)
