"""When a message stops making sense, and how long and how often it is retried."""

import random
from datetime import datetime, time, timedelta

from django.conf import settings

from apps.bookings.models import ACTIVE_STATUSES
from apps.notifications.models import Notification, NotificationEvent, SkipReason
from apps.waitlist.selectors import offer_is_open

# Messages about an appointment still ahead: pointless once it has started.
ABOUT_AN_UPCOMING_APPOINTMENT = frozenset(
    {
        NotificationEvent.BOOKING_CREATED,
        NotificationEvent.BOOKING_CONFIRMED,
        NotificationEvent.BOOKING_CANCELLED,
        NotificationEvent.BOOKING_RESCHEDULED,
        NotificationEvent.BOOKING_REMINDER,
        NotificationEvent.BOOKING_DISRUPTED,
    }
)


def retry_deadline(now: datetime) -> datetime:
    """When a row queued ``now`` stops being retried (NOTIFICATION_RETRY_DEADLINE_SECONDS)."""
    return now + timedelta(seconds=settings.NOTIFICATION_RETRY_DEADLINE_SECONDS)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base * 2^(attempt-1), capped, never below half of it."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1),
    )
    # Jitter spreads the retries of a provider outage; it is not a security value.
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311


def stale_reason(notification: Notification, now: datetime) -> str:
    """Why sending this row at ``now`` would make no sense (a ``SkipReason``, "" when it still does)."""
    booking = notification.booking
    if notification.event == NotificationEvent.WAITLIST_OFFER:
        # Its booking is the one that freed the time: what counts is the offer itself.
        offer = notification.waitlist_offer
        return "" if offer is not None and offer_is_open(offer, now) else SkipReason.OFFER_CLOSED
    if notification.event == NotificationEvent.STAFF_AGENDA:
        day_begins = datetime.combine(notification.agenda_date, time(0), tzinfo=booking.salon.tz)
        return SkipReason.DAY_BEGAN if now >= day_begins else ""
    if notification.event in ABOUT_AN_UPCOMING_APPOINTMENT and now >= booking.start:
        return SkipReason.APPOINTMENT_STARTED
    if notification.event == NotificationEvent.BOOKING_DISRUPTED and notification.recipient_id == booking.customer_id:
        # The customer's choice of other times: pointless once the booking was moved or cancelled.
        if booking.status not in ACTIVE_STATUSES:
            return SkipReason.BOOKING_NOT_ACTIVE
        if booking.reschedule_count != notification.sequence:
            return SkipReason.BOOKING_MOVED
    if notification.event == NotificationEvent.BOOKING_REMINDER:
        # Reminders are for bookings still pending or confirmed, at their current time.
        if booking.status not in ACTIVE_STATUSES:
            return SkipReason.BOOKING_NOT_ACTIVE
        if booking.reschedule_count != notification.sequence:
            return SkipReason.BOOKING_MOVED
    return ""


def too_late_to_retry(notification: Notification, retry_at: datetime) -> str:
    """Why a retry at ``retry_at`` is not worth scheduling ("" when it is): the
    appointment will have started (``skipped``), or the row's deadline passed."""
    if notification.event in ABOUT_AN_UPCOMING_APPOINTMENT and retry_at >= notification.booking.start:
        return SkipReason.APPOINTMENT_STARTED
    if retry_at >= (notification.retry_until or retry_deadline(notification.created_at)):
        return "deadline"
    return ""
