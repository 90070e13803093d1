"""Closures and time off through the API (managers), and the page of the link in a
disrupted booking's SMS (``/d/<token>``)."""

from datetime import datetime

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Language
from apps.common.errors import AppError
from apps.disruptions.alternatives import AlternativeFinder
from apps.disruptions.models import DisruptionOutcome
from apps.disruptions.serializers import (
    ClosureCreateSerializer,
    ClosureSerializer,
    TimeOffCreateSerializer,
    TimeOffSerializer,
    affected_answer,
)
from apps.disruptions.services import (
    closure_create,
    disruption_cancel,
    disruption_for_page,
    disruption_move,
    time_off_create,
)
from apps.notifications.links import DISRUPTION, read_link_token
from apps.notifications.messages import local_when


class ClosureView(APIView):
    """A salon's managers close it for whole days (Eid): the bookings it catches are
    listed in ``affected_bookings``; each customer is offered other times or cancel,
    and unanswered ones are cancelled two hours before their start."""

    @extend_schema(request=ClosureCreateSerializer, responses={201: ClosureSerializer})
    def post(self, request):
        serializer = ClosureCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        closure, affected = closure_create(
            actor=request.user,
            salon_id=data["salon"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            reason=data["reason"],
        )
        body = {
            "id": closure.pk,
            "salon": closure.salon_id,
            "start_date": closure.start_date.isoformat(),
            "end_date": closure.end_date.isoformat(),
            "reason": closure.reason,
            "affected_bookings": affected_answer(affected),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class TimeOffView(APIView):
    """A salon's managers record a staff member's time off: the bookings it catches are
    listed in ``affected_bookings`` and handled as for a closure."""

    @extend_schema(request=TimeOffCreateSerializer, responses={201: TimeOffSerializer})
    def post(self, request):
        serializer = TimeOffCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        time_off, affected = time_off_create(
            actor=request.user, staff_id=data["staff"], start=data["start"], end=data["end"], reason=data["reason"]
        )
        tz = time_off.staff.salon.tz
        body = {
            "id": time_off.pk,
            "staff": time_off.staff_id,
            "start": time_off.start.astimezone(tz).isoformat(),
            "end": time_off.end.astimezone(tz).isoformat(),
            "reason": time_off.reason,
            "affected_bookings": affected_answer(affected),
        }
        return Response(body, status=status.HTTP_201_CREATED)


# The choice page's words, in the customer's language.
CHOICE_PAGE = {
    Language.ENGLISH: {
        "title": "Choose another time",
        "booking": "Your booking",
        "options": "Free times",
        "none": "No free time nearby: please call the salon.",
        "move": "Move here",
        "cancel": "Cancel my booking",
        "moved": "Done: your booking is moved. You will get a message.",
        "cancelled": "Your booking is cancelled.",
        "taken": "Sorry, that time was just taken. Here are the free times now.",
        "closed": "This booking can no longer be changed here.",
    },
    Language.ARABIC: {
        "title": "اختر موعداً آخر",
        "booking": "حجزك",
        "options": "المواعيد المتاحة",
        "none": "لا يوجد موعد متاح قريباً: يرجى الاتصال بالصالون.",
        "move": "انقل حجزي إلى هذا الموعد",
        "cancel": "ألغِ حجزي",
        "moved": "تم نقل حجزك، وستصلك رسالة بذلك.",
        "cancelled": "تم إلغاء حجزك.",
        "taken": "عذراً، حُجز ذلك الموعد للتو. هذه المواعيد المتاحة الآن.",
        "closed": "لم يعد بالإمكان تغيير هذا الحجز من هنا.",
    },
}


@require_http_methods(["GET", "POST"])
def choice_page(request, token: str):
    """The link in a disruption notice's SMS: the booking, the free times nearest to
    it now (each a button) and "Cancel my booking". POST moves or cancels as the
    customer (the signed token names the disruption; it reached their phone), with
    every booking rule; a time taken meanwhile shows the free times again."""
    disruption_id = read_link_token(DISRUPTION, token)
    if disruption_id is None:
        raise Http404("No such link.")
    try:
        disruption = disruption_for_page(disruption_id)
    except AppError:
        raise Http404("No such link.") from None
    booking = disruption.booking
    customer = booking.customer
    if not customer.is_active:
        raise Http404("No such link.")
    language = customer.preferred_language if customer.preferred_language in CHOICE_PAGE else Language.ARABIC
    words = CHOICE_PAGE[language]
    outcome = ""
    if request.method == "POST" and disruption.outcome == DisruptionOutcome.OPEN:
        outcome = _choose(request.POST, disruption, customer)
        disruption.refresh_from_db()
        booking.refresh_from_db()
    tz = booking.salon.tz
    open_ = disruption.outcome == DisruptionOutcome.OPEN and booking.is_active
    options = AlternativeFinder().nearest(booking) if open_ else []
    context = {
        "words": words,
        "language": language,
        "rtl": language == Language.ARABIC,
        "service": booking.service.display_name(language),
        "salon": booking.salon.display_name(language),
        "when": local_when(booking.start, tz),
        "open": open_,
        "outcome": outcome,
        "options": [
            {"value": f"{o.staff_id}|{o.start.isoformat()}", "when": local_when(o.start, tz), "staff": o.staff_name}
            for o in options
        ],
    }
    return render(request, "disruptions/choose.html", context)


def _choose(data, disruption, customer) -> str:
    """Apply the page's POST: "moved", "cancelled", "taken" (show fresh times) or "refused"."""
    booking = disruption.booking
    try:
        if data.get("choice") == "cancel":
            disruption_cancel(actor=customer, booking_id=booking.pk)
            return "cancelled"
        staff_text, _, start_text = str(data.get("option", "")).partition("|")
        start = datetime.fromisoformat(start_text)
        if start.tzinfo is None:
            return "refused"
        disruption_move(actor=customer, booking_id=booking.pk, start=start, staff_id=int(staff_text))
        return "moved"
    except ValueError:
        return "refused"
    except AppError as exc:
        return "taken" if exc.code == "slot_taken" else "refused"
