from django.core.management.base import BaseCommand

from apps.notifications.models import Notification, NotificationEvent, NotificationStatus
from apps.notifications.services import notification_resend


class Command(BaseCommand):
    help = "Queue failed notifications again, each with a fresh retry budget."

    def add_arguments(self, parser):
        parser.add_argument("--event", choices=NotificationEvent.values, help="Only this event.")
        parser.add_argument("--booking", type=int, help="Only this booking's notifications.")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, **options):
        failed = Notification.objects.filter(status=NotificationStatus.FAILED).select_related("booking", "recipient")
        if options["event"]:
            failed = failed.filter(event=options["event"])
        if options["booking"]:
            failed = failed.filter(booking_id=options["booking"])
        count = 0
        for notification in failed.order_by("created_at")[: options["limit"]]:
            notification_resend(notification=notification)
            count += 1
        self.stdout.write(f"Queued {count} failed notification(s) again.")
