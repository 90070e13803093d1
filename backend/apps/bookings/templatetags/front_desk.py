"""The link to the day by staff member, in the admin's header, for whoever may see it."""

from django import template
from django.urls import reverse

from apps.bookings.admin_desk import may_see_the_day

register = template.Library()


@register.simple_tag(takes_context=True)
def day_view_url(context) -> str:
    request = context.get("request")
    if request is None or not may_see_the_day(request.user):
        return ""
    return reverse("admin:bookings_booking_day")
