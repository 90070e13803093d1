"""Background work for notifications. Tasks take ids and call services."""

from celery import shared_task

from apps.notifications.services import notification_deliver, notification_sweep


@shared_task(
    name="notifications.send",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # The attempt budget lives on the row (NOTIFICATION_MAX_ATTEMPTS), not in Celery.
    max_retries=None,
)
def send_notification(self, notification_id: int) -> str:
    """Deliver one notification; retried with backoff on transient provider errors.

    Run in-process (no broker) there is no worker to retry later, so a transient
    error fails the row at once; it can be resent from the admin.
    """
    outcome = notification_deliver(notification_id=notification_id, can_retry=not self.request.is_eager)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_notifications() -> int:
    """Queue again the pending notifications whose enqueue or worker was lost."""
    return notification_sweep()
