import csv
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.privacy.selectors import people_affected


def _moment(text: str, *, end: bool) -> datetime:
    """An ISO date or datetime; without an offset it is read in the salon's time
    zone (SALON_DEFAULT_TIME_ZONE). A bare date as --to includes that whole day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.min)
            if end:
                moment = datetime.combine(date.fromordinal(day.toordinal() + 1), time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"Not an ISO date or datetime: {text!r} (e.g. 2026-11-20 or 2026-11-20T14:00+03:00)"
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(settings.SALON_DEFAULT_TIME_ZONE))
    return moment


class Command(BaseCommand):
    help = (
        "List the people whose data was in rows created or changed between --from and --to (a breach: "
        "whom to tell, and what to report to SDAIA within 72 hours). CSV on standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="ISO date or datetime (salon time if naive)")
        parser.add_argument("--to", dest="end", required=True, help="ISO date (inclusive) or datetime (exclusive)")

    def handle(self, *args, start, end, **options):
        start, end = _moment(start, end=False), _moment(end, end=True)
        if end <= start:
            raise CommandError("--to must be after --from.")
        people = people_affected(start=start, end=end)
        tables = sorted({table for person in people for table in person.rows})
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["user_id", "phone", "name", "role", *tables])
        for person in people:
            writer.writerow(
                [person.user_id or "", person.phone, person.name, person.role, *(person.rows.get(t, 0) for t in tables)]
            )
        self.stderr.write(f"{len(people)} people with data in rows created or changed from {start} to {end}.")
