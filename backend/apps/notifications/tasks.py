"""Background work for notifications. Tasks take ids and call delivery."""

from celery import shared_task

from apps.notifications.agenda import agenda_scan
from apps.notifications.delivery.publishing import (
    SEND_MANY_TASK,
    SEND_TASK,
    notification_sweep,
    publish_now_rollback_unsafe,
)
from apps.notifications.delivery.sending import notification_deliver
from apps.notifications.reminders import reminder_scan


@shared_task(
    name=SEND_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # Retried on transient provider errors, as often as the row's deadline allows
    # (retry_until): the budget lives on the row, not in Celery.
    max_retries=None,
)
def send_notification(self, notification_id: int) -> str:
    """Deliver one notification; run again when delivery asks for a retry."""
    outcome = notification_deliver(notification_id=notification_id)
    # Run eagerly (in tests) there is no worker to come back later: the row stays
    # pending and reserved until its retry time, and the sweep publishes it then.
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name=SEND_MANY_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_notifications(notification_ids: list[int]) -> str:
    """Fan several committed rows out to ``notifications.send`` (one each, so they
    go out in parallel), delivering the last one here. Safe to run twice: a row
    already sent or being sent is not sent again."""
    *rest, last = notification_ids
    for notification_id in rest:
        publish_now_rollback_unsafe(notification_id)  # committed rows
    outcome = notification_deliver(notification_id=last)
    if outcome.retry_in is not None and not send_notifications.request.is_eager:
        publish_now_rollback_unsafe(last, countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_notifications() -> int:
    """Publish again the pending notifications whose publish or worker was lost."""
    return notification_sweep()


@shared_task(name="notifications.remind", ignore_result=True)
def send_due_reminders() -> int:
    """Write the reminders that are due (beat, every minute); returns how many."""
    return reminder_scan().written


@shared_task(name="notifications.agenda", ignore_result=True)
def send_staff_agendas() -> int:
    """Write the staff agendas that are due (beat, every minute); returns how many."""
    return agenda_scan().written
