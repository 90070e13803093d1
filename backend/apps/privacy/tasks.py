"""Background work for personal data. Tasks call services."""

from dataclasses import asdict

from celery import shared_task

from apps.privacy.services import retention_apply


@shared_task(name="privacy.retention", ignore_result=True)
def apply_retention() -> dict:
    """Daily (beat): redact old messages, delete spent login codes and expired tokens."""
    result = asdict(retention_apply())
    return result | {"cutoff": result["cutoff"].isoformat()}
