from django.urls import path

from apps.disruptions.views import ClosureView, TimeOffView

urlpatterns = [
    path("closures/", ClosureView.as_view(), name="closures"),
    path("time-off/", TimeOffView.as_view(), name="time-off"),
]
