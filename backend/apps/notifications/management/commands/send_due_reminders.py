from django.core.management.base import BaseCommand

from apps.notifications.reminders import reminder_scan


class Command(BaseCommand):
    help = "Run one reminder scan now: write (and queue) every reminder that is due."

    def handle(self, *args, **options):
        result = reminder_scan()
        self.stdout.write(
            f"Wrote {result.written} reminder(s) for {result.bookings} booking(s) ({result.skipped} skipped)."
        )
