from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.notifications.selectors import format_cost, message_usage, usage_totals


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise CommandError(f"--month must be YYYY-MM, not {text!r}.") from None


class Command(BaseCommand):
    help = (
        "Messages the providers accepted in a month, per salon and channel: count, SMS segments and cost "
        "(as the providers reported it). Months are each salon's own calendar months."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--salon", type=int, help="Only this salon (id).")

    def handle(self, *args, **options):
        rows = message_usage(month=parse_month(options["month"]), salon_id=options["salon"])
        header = f"{'salon':<30} {'channel':<9} {'messages':>9} {'segments':>9}  cost"
        self.stdout.write(header)
        for row in rows:
            cost = format_cost(row.cost) + (f" (+{row.unpriced} unpriced)" if row.unpriced else "")
            name = f"{row.salon_name} (#{row.salon_id})"[:30]
            self.stdout.write(f"{name:<30} {row.channel:<9} {row.messages:>9} {row.segments:>9}  {cost}")
        total = usage_totals(rows)
        cost = format_cost(total["cost"]) + (f" (+{total['unpriced']} unpriced)" if total["unpriced"] else "")
        self.stdout.write(f"{'total':<30} {'':<9} {total['messages']:>9} {total['segments']:>9}  {cost}")
