"""Start-up checks (`manage.py check`, `migrate` and the deploy check run them)."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def metrics_token_in_production(app_configs, **kwargs):
    if settings.IS_PRODUCTION and not settings.METRICS_TOKEN:
        return [
            Error(
                "METRICS_TOKEN must be set when DJANGO_ENV=production: /metrics needs a bearer token there.",
                hint="Set METRICS_TOKEN to a long random value and scrape with 'Authorization: Bearer <token>'.",
                id="salon.E001",
            )
        ]
    return []
