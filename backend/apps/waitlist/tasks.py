"""Background work of the waiting list."""

from celery import shared_task

from apps.waitlist.services import waitlist_expire_scan


@shared_task(name="waitlist.expire", ignore_result=True)
def expire_waitlist() -> int:
    """Offers that ran out and days that ended (beat, every minute); returns how many entries changed."""
    result = waitlist_expire_scan()
    return result.back_to_waiting + result.expired
