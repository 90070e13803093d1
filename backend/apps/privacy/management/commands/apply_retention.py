from django.core.management.base import BaseCommand

from apps.privacy.services import RETENTION_BATCH, retention_apply


class Command(BaseCommand):
    help = (
        "Redact the text and phone of messages older than MESSAGE_RETENTION_DAYS and delete spent login codes "
        "and expired tokens, now, in this process (the daily beat task privacy.retention does the same)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=RETENTION_BATCH, help="rows per transaction")

    def handle(self, *args, batch_size, **options):
        result = retention_apply(batch_size=max(batch_size, 1))
        self.stdout.write(
            f"Messages before {result.cutoff.isoformat()}: {result.notifications} notifications and "
            f"{result.inbound_messages} inbound messages redacted.\n"
            f"Deleted: {result.login_codes} used or expired login codes, {result.expired_tokens} expired tokens."
        )
