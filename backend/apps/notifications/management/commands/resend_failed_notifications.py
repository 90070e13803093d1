from collections import Counter

from django.core.management.base import BaseCommand

from apps.common.channels import Channel
from apps.notifications.delivery.resend import RESEND_RESULT_TEXT, ResendResult, notification_resend
from apps.notifications.models import Notification, NotificationEvent, NotificationStatus


class Command(BaseCommand):
    help = "Queue failed notifications again, each as it is (same channel and text), with a fresh retry deadline."

    def add_arguments(self, parser):
        parser.add_argument("--event", choices=NotificationEvent.values, help="Only this event.")
        parser.add_argument("--booking", type=int, help="Only this booking's notifications.")
        parser.add_argument("--channel", choices=Channel.values, help="Only rows on this channel.")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="Only this row (repeatable).")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, **options):
        failed = Notification.objects.filter(status=NotificationStatus.FAILED)
        if options["event"]:
            failed = failed.filter(event=options["event"])
        if options["booking"]:
            failed = failed.filter(booking_id=options["booking"])
        if options["channel"]:
            failed = failed.filter(channel=options["channel"])
        if options["ids"]:
            failed = failed.filter(pk__in=options["ids"])
        results = Counter(
            notification_resend(notification=notification)
            for notification in failed.order_by("created_at")[: options["limit"]]
        )
        self.stdout.write(f"Queued {results.pop(ResendResult.QUEUED, 0)} failed notification(s) again.")
        for result, count in sorted(results.items()):
            self.stdout.write(f"Not queued: {count} ({RESEND_RESULT_TEXT[result]}).")
