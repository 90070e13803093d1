"""Background work of disruptions."""

from celery import shared_task

from apps.disruptions.services import disruption_deadline_scan


@shared_task(name="disruptions.deadline", ignore_result=True)
def cancel_unanswered_disruptions() -> int:
    """Cancel the disrupted bookings nobody answered for (beat, every minute); returns how many."""
    return disruption_deadline_scan().cancelled
