"""The consent API (``/api/me/consents/``) and the SMS opt-out page (``/u/<token>``)."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Language, User
from apps.notifications.consent import consent_record, consent_state, consent_withdraw_everywhere
from apps.notifications.models import ConsentSource
from apps.notifications.promotional import read_optout_token
from apps.notifications.serializers import ConsentChangeSerializer, ConsentListSerializer


def _answer(user) -> dict:
    return {"consents": [state.__dict__ for state in consent_state(user)]}


class ConsentView(APIView):
    """Promotional messages: the logged-in person's consent per channel, and their decisions.
    Giving consent is never a condition of booking; messages about bookings do not depend on it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ConsentListSerializer})
    def get(self, request):
        return Response(ConsentListSerializer(_answer(request.user)).data)

    @extend_schema(request=ConsentChangeSerializer, responses={201: ConsentListSerializer})
    def post(self, request):
        serializer = ConsentChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent_record(user=request.user, source=ConsentSource.API, **serializer.validated_data)
        return Response(ConsentListSerializer(_answer(request.user)).data, status=status.HTTP_201_CREATED)


# The opt-out page's words, in the person's language (like the messages themselves).
OPT_OUT_PAGE = {
    Language.ENGLISH: {
        "ask_title": "Stop offers from Salon?",
        "ask": "You will get no more offers or news from Salon and the salons you book with, by SMS or WhatsApp. "
        "Messages about your bookings will still reach you.",
        "button": "Stop offers",
        "done_title": "Offers stopped",
        "done": "You will get no more offers from Salon, by SMS or WhatsApp. Messages about your bookings will "
        "still reach you. You can agree to offers again in the Salon app.",
    },
    Language.ARABIC: {
        "ask_title": "إيقاف العروض من صالون؟",
        "ask": "لن تصلك بعد الآن عروض أو أخبار من تطبيق صالون والصالونات التي تحجز لديها، لا برسائل نصية ولا "
        "عبر واتساب. وستظل رسائل حجوزاتك تصلك.",
        "button": "إيقاف العروض",
        "done_title": "تم إيقاف العروض",
        "done": "لن تصلك بعد الآن عروض من صالون، لا برسائل نصية ولا عبر واتساب. وستظل رسائل حجوزاتك تصلك. "
        "يمكنك الموافقة على العروض مرة أخرى من تطبيق صالون.",
    },
}


@require_http_methods(["GET", "POST"])
def optout_page(request, token: str):
    """The link at the end of every promotional SMS: GET says what will happen and
    shows one button; POST withdraws promotional consent on every channel. No login:
    the signed token names the person. In their language."""
    user_id = read_optout_token(token)
    person = User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
    if person is None:
        raise Http404("No such link.")
    language = person.preferred_language if person.preferred_language in OPT_OUT_PAGE else Language.ARABIC
    context = {"words": OPT_OUT_PAGE[language], "language": language, "rtl": language == Language.ARABIC}
    if request.method == "POST":
        consent_withdraw_everywhere(user=person, source=ConsentSource.SMS_LINK)
        return render(request, "notifications/optout_done.html", context)
    return render(request, "notifications/optout.html", context)
