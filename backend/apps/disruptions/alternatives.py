"""Other times for a disrupted booking: the nearest free starts for its service, with
any staff member who performs it, by the availability machinery (so every time
offered is one ``booking_create`` would accept)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.schedule import last_bookable_date
from apps.bookings.selectors import availability_for_day
from apps.common.errors import AppError


@dataclass(frozen=True)
class Alternative:
    start: datetime  # UTC
    staff_id: int
    staff_name: str

    def as_json(self) -> dict:
        return {"staff": self.staff_id, "staff_name": self.staff_name, "start": self.start.isoformat()}


class AlternativeFinder:
    """Finds alternatives for the bookings of one disruption. A day's free times are
    read once per service (two queries each), and a time offered to one customer is
    not offered to another of the same batch (nor a time overlapping it with the
    same staff member): five customers of a closed day get five different choices."""

    def __init__(self, now: datetime | None = None):
        self.now = now or timezone.now()
        self._days: dict[tuple[int, date], list[Alternative]] = {}
        self._offered: dict[int, list[tuple[datetime, datetime]]] = {}

    def _day(self, booking: Booking, local_date: date) -> list[Alternative]:
        key = (booking.service_id, local_date)
        if key not in self._days:
            try:
                day = availability_for_day(
                    salon_id=booking.salon_id, service_id=booking.service_id, local_date=local_date
                )
            except AppError:  # past the booking horizon, or the service is no longer offered
                self._days[key] = []
            else:
                self._days[key] = [
                    Alternative(candidate.start, item.staff.pk, item.staff.name)
                    for item in day.staff
                    for candidate in item.starts
                ]
        return self._days[key]

    def _free(self, alternative: Alternative, span: timedelta) -> bool:
        end = alternative.start + span
        return not any(s < end and alternative.start < e for s, e in self._offered.get(alternative.staff_id, ()))

    def nearest(self, booking: Booking, *, limit: int = 3) -> list[Alternative]:
        """Up to ``limit`` free starts nearest to the booking's start (earlier first on a
        tie), within DISRUPTION_SEARCH_DAYS days either side, from today on."""
        tz = booking.salon.tz
        span = timedelta(minutes=booking.service.duration_minutes + booking.service.buffer_minutes)
        home = booking.start.astimezone(tz).date()
        today = timezone.localtime(self.now, tz).date()
        last = last_bookable_date(self.now, tz)

        def gap(alternative: Alternative):
            return abs(alternative.start - booking.start), alternative.start, alternative.staff_id

        found: list[Alternative] = []
        for distance in range(settings.DISRUPTION_SEARCH_DAYS + 1):
            for local_date in {home - timedelta(days=distance), home + timedelta(days=distance)}:
                if today <= local_date <= last:
                    found += [a for a in self._day(booking, local_date) if self._free(a, span)]
            # A start on a day further away is more than `distance` days from the booking:
            # once `limit` lie within that, the nearest are known.
            if sum(1 for a in found if abs(a.start - booking.start) <= timedelta(days=distance)) >= limit:
                break
        chosen = sorted(found, key=gap)[:limit]
        # Taken out for the next customers of the batch (one customer takes one of theirs).
        for alternative in chosen:
            self._offered.setdefault(alternative.staff_id, []).append((alternative.start, alternative.start + span))
        return chosen
