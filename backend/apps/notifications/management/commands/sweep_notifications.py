from django.core.management.base import BaseCommand

from apps.notifications.delivery.publishing import notification_sweep


class Command(BaseCommand):
    help = "Queue again pending notifications that nobody is delivering (broker was down, worker died)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="Only rows untouched for this many seconds (default: NOTIFICATION_SWEEP_AFTER_SECONDS).",
        )
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, **options):
        queued = notification_sweep(older_than_seconds=options["older_than"], limit=options["limit"])
        self.stdout.write(f"Queued {queued} pending notification(s).")
