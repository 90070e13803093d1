"""Reads about messages: what is waiting, and what they cost."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Sum

from apps.notifications.models import AttemptOutcome, DeliveryAttempt, Notification, NotificationStatus
from apps.salons.models import Salon


def outbox_state() -> tuple[int, datetime | None]:
    """How many messages wait to be delivered, and when the oldest of them was written (the /metrics gauges)."""
    pending = Notification.objects.filter(status=NotificationStatus.PENDING)
    state = pending.aggregate(count=Count("id"), first=Min("created_at"))
    return state["count"], state["first"]


@dataclass
class UsageRow:
    """One salon's messages on one channel in a month: provider calls accepted,
    SMS segments (our count), and the price reported, per currency."""

    salon_id: int
    salon_name: str
    channel: str
    messages: int = 0
    segments: int = 0
    cost: dict[str, Decimal] = field(default_factory=dict)  # price unit -> total
    unpriced: int = 0  # accepted messages whose provider reported no price


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first moment of ``month`` and of the month after, in ``tz``."""
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    after = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=tz)
    return start, after


def message_usage(*, month: date, salon_id: int | None = None) -> list[UsageRow]:
    """Per salon and channel, the messages providers accepted in ``month`` (the
    salon's own calendar month, in its time zone), their SMS segments and cost.

    Counted from ``DeliveryAttempt`` rows with outcome ``sent``: each is one
    message a provider took (and bills); refused calls cost nothing and are not
    counted. One query per time zone in use.
    """
    salons = Salon.objects.all() if salon_id is None else Salon.objects.filter(pk=salon_id)
    names = dict(salons.values_list("pk", "name"))
    rows: dict[tuple[int, str], UsageRow] = {}
    for zone in sorted(set(salons.values_list("time_zone", flat=True))):
        start, after = month_bounds(month, ZoneInfo(zone))
        attempts = DeliveryAttempt.objects.filter(
            outcome=AttemptOutcome.SENT,
            started_at__gte=start,
            started_at__lt=after,
            notification__booking__salon__time_zone=zone,
        )
        if salon_id is not None:
            attempts = attempts.filter(notification__booking__salon_id=salon_id)
        grouped = (
            attempts.values("notification__booking__salon_id", "notification__channel", "price_unit")
            .annotate(messages=Count("id"), segments=Sum("segments"), cost=Sum("price"), priced=Count("price"))
            .order_by()
        )
        for group in grouped:
            key = (group["notification__booking__salon_id"], group["notification__channel"])
            row = rows.setdefault(key, UsageRow(key[0], names.get(key[0], ""), key[1]))
            row.messages += group["messages"]
            row.segments += group["segments"] or 0
            row.unpriced += group["messages"] - group["priced"]
            if group["cost"] is not None:
                unit = (group["price_unit"] or "?").upper()
                row.cost[unit] = row.cost.get(unit, Decimal(0)) + group["cost"]
    return sorted(rows.values(), key=lambda row: (row.salon_name, row.salon_id, row.channel))


def usage_totals(rows: list[UsageRow]) -> dict[str, object]:
    """The sum of several rows (the footer of a usage table)."""
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        for unit, amount in row.cost.items():
            cost[unit] += amount
    return {
        "messages": sum(row.messages for row in rows),
        "segments": sum(row.segments for row in rows),
        "cost": dict(cost),
        "unpriced": sum(row.unpriced for row in rows),
    }


def format_cost(cost: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount.normalize():f} {unit}" for unit, amount in sorted(cost.items())) or "—"
