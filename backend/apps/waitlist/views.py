"""The waiting list API (``/api/waitlist/``) and the page of the link in an offer's SMS (``/w/<token>``)."""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Language
from apps.bookings.serializers import BookingSerializer
from apps.common.errors import AppError
from apps.notifications.links import OFFER, read_link_token
from apps.notifications.messages import local_when
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.selectors import waitlist_entry_list
from apps.waitlist.serializers import WaitlistClaimSerializer, WaitlistEntryCreateSerializer, WaitlistEntrySerializer
from apps.waitlist.services import (
    waitlist_entry_cancel,
    waitlist_entry_claim,
    waitlist_entry_create,
    waitlist_offer_claim,
)


@extend_schema_view(
    create=extend_schema(request=WaitlistEntryCreateSerializer, responses={201: WaitlistEntrySerializer}),
    destroy=extend_schema(responses={204: None}),
)
class WaitlistEntryViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The waiting list. Customers join it for themselves and see their own entries;
    a manager sees their salon's. When a time that fits an entry is freed, its
    customer is offered it (WhatsApp "Book it", or an SMS link) for
    WAITLIST_OFFER_MINUTES; the entry's ``offers`` lists the open ones, which
    ``claim`` books. ``DELETE`` takes an entry off the list."""

    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return WaitlistEntry.objects.none()
        offers = WaitlistOffer.objects.select_related("staff").order_by("start", "id")
        return waitlist_entry_list(user=self.request.user).prefetch_related(Prefetch("offers", queryset=offers))

    def get_serializer_class(self):
        if self.action == "create":
            return WaitlistEntryCreateSerializer
        if self.action == "claim":
            return WaitlistClaimSerializer
        return WaitlistEntrySerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = waitlist_entry_create(
            actor=self.request.user,
            service_id=data["service"],
            staff_id=data.get("staff"),
            local_date=data["date"],
            window_start=data["window_start"],
            window_end=data["window_end"],
        )

    def destroy(self, request, *args, **kwargs):
        waitlist_entry_cancel(actor=request.user, entry_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=WaitlistClaimSerializer, responses={201: BookingSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Book an offered time of this entry (its ``start``): the first claim wins, the
        others get 409 ``slot_taken`` and stay on the list."""
        serializer = WaitlistClaimSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claimed = waitlist_entry_claim(actor=request.user, entry_id=int(pk), start=serializer.validated_data["start"])
        return Response(BookingSerializer(claimed.booking).data, status=status.HTTP_201_CREATED)


# The offer page's words, in the customer's language (like the message itself).
OFFER_PAGE = {
    Language.ENGLISH: {
        "title": "A place opened for you",
        "when": "When",
        "with": "With",
        "until": "Book before",
        "button": "Book it",
        "booked": "Booked. You will get a message with your booking.",
        "refused": "Sorry, this time can no longer be booked. You are still on the waiting list.",
        "closed": "This offer is no longer open.",
    },
    Language.ARABIC: {
        "title": "تفرّغ موعد لك",
        "when": "الموعد",
        "with": "مع",
        "until": "احجز قبل",
        "button": "احجزه",
        "booked": "تم الحجز. ستصلك رسالة بتفاصيل حجزك.",
        "refused": "عذراً، لم يعد بالإمكان حجز هذا الموعد. ما زلت على قائمة الانتظار.",
        "closed": "هذا العرض لم يعد متاحاً.",
    },
}


@require_http_methods(["GET", "POST"])
def offer_page(request, token: str):
    """The link in a waiting list offer's SMS: GET shows the offered time and one
    button; POST claims it as the customer (the signed token names the offer; it
    reached their phone), with every booking rule. In their language."""
    offer_id = read_link_token(OFFER, token)
    offer = (
        WaitlistOffer.objects.select_related("entry__customer", "entry__salon", "entry__service", "staff")
        .filter(pk=offer_id)
        .first()
        if offer_id is not None
        else None
    )
    if offer is None or not offer.entry.customer.is_active:
        raise Http404("No such link.")
    entry, customer = offer.entry, offer.entry.customer
    language = customer.preferred_language if customer.preferred_language in OFFER_PAGE else Language.ARABIC
    tz = entry.salon.tz
    context = {
        "words": OFFER_PAGE[language],
        "language": language,
        "rtl": language == Language.ARABIC,
        "service": entry.service.display_name(language),
        "salon": entry.salon.display_name(language),
        "when": local_when(offer.start, tz),
        "staff": offer.staff.name,
        "until": local_when(offer.expires_at, tz),
        "open": entry.on_the_list,
        "outcome": "",
    }
    if request.method == "POST":
        try:
            waitlist_offer_claim(actor=customer, offer_id=offer.pk)
        except AppError as exc:
            context["outcome"], context["code"] = "refused", exc.code
        else:
            context["outcome"] = "booked"
    return render(request, "waitlist/offer.html", context)
