"""Template helpers of the admin's frame (apps/common/admin.py)."""

from django import template

from apps.common.admin import zone_words as _zone_words

register = template.Library()


@register.filter
def zone_words(zone: str) -> str:
    """``Asia/Riyadh`` -> "Riyadh time" / "توقيت الرياض" (the active language)."""
    return _zone_words(zone) if zone else ""
