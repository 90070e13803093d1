"""Start-up checks (`manage.py check`, `migrate` and the deploy check run them)."""

from django.conf import settings
from django.core import checks
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


@register()
def transaction_pooler(app_configs, **kwargs):
    return transaction_pooler_warnings(settings.DATABASES["default"], pooler=settings.DATABASE_TRANSACTION_POOLER)


def transaction_pooler_warnings(database: dict, *, pooler: bool) -> list:
    """Behind a pooler in transaction mode nothing may outlive a transaction (settings.py)."""
    if not pooler or database["ENGINE"] != "django.db.backends.postgresql":
        return []
    options = database.get("OPTIONS", {})
    warnings = []
    if options.get("server_side_binding") is True and options.get("prepare_threshold") is not None:
        warnings.append(
            checks.Warning(
                "DATABASE_TRANSACTION_POOLER=1 with prepared statements: a pooler in transaction mode "
                "(PgBouncer before 1.21) runs the next transaction on another server connection, where the "
                "statement was never prepared ('prepared statement ... does not exist').",
                hint="Unset DATABASE_PREPARE_THRESHOLD (or DATABASE_SERVER_SIDE_BINDING), unless the pooler "
                "itself keeps prepared statements (PgBouncer >= 1.21 with max_prepared_statements).",
                id="salon.W001",
            )
        )
    if not database.get("DISABLE_SERVER_SIDE_CURSORS"):
        warnings.append(
            checks.Warning(
                "DATABASE_TRANSACTION_POOLER=1 with server-side cursors: a cursor outlives its transaction "
                "on one server connection and the pooler hands the next one out.",
                hint="Leave DISABLE_SERVER_SIDE_CURSORS on (settings.py sets it with DATABASE_TRANSACTION_POOLER).",
                id="salon.W002",
            )
        )
    return warnings
