from django.urls import path

from apps.notifications.views import ConsentView
from apps.notifications.webhooks import TwilioInboundWebhook, TwilioStatusWebhook, WhatsAppWebhook

urlpatterns = [
    path("me/consents/", ConsentView.as_view(), name="me-consents"),
    path("webhooks/twilio/status/", TwilioStatusWebhook.as_view(), name="twilio-status"),
    path("webhooks/twilio/inbound/", TwilioInboundWebhook.as_view(), name="twilio-inbound"),
    path("webhooks/whatsapp/", WhatsAppWebhook.as_view(), name="whatsapp-webhook"),
]
