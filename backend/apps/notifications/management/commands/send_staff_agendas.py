from django.core.management.base import BaseCommand

from apps.notifications.agenda import agenda_scan
from apps.notifications.delivery.publishing import RELAY


class Command(BaseCommand):
    help = (
        "Run one agenda scan now: each staff member with bookings tomorrow gets their agenda once, "
        "at or after their salon's agenda time (SalonNotificationSettings.staff_agenda_time)."
    )

    def handle(self, *args, **options):
        result = agenda_scan()
        RELAY.drain()  # hand the rows to the broker before this process exits (else the sweep will)
        self.stdout.write(f"Wrote {result.written} agenda(s) at {result.salons} salon(s) ({result.skipped} skipped).")
