"""Rates written the way DRF writes throttle rates: "5/hour", "1000/day"."""

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1000/hour"`` -> ``(1000, 3600)``: how many, per how many seconds."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]
