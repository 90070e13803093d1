from django.core.management.base import BaseCommand

from apps.notifications.agenda import agenda_scan
from apps.notifications.delivery.publishing import RELAY


class Command(BaseCommand):
    help = (
        "Run one agenda scan now: each staff member with bookings tomorrow gets their agenda once, "
        "at or after their salon's agenda time (SalonNotificationSettings.staff_agenda_time)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            action="store_true",
            help="Send tomorrow's agendas now, even before the salons' agenda time (still once per staff member).",
        )

    def handle(self, *args, **options):
        result = agenda_scan(before_time=options["now"])
        RELAY.drain()  # hand the rows to the broker before this process exits (else the sweep will)
        self.stdout.write(f"Wrote {result.written} agenda(s) at {result.salons} salon(s) ({result.skipped} skipped).")
