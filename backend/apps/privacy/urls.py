from django.urls import path

from apps.privacy.views import DataExportView, DataRequestListCreateView

urlpatterns = [
    path("me/export/", DataExportView.as_view(), name="me-export"),
    path("me/data-requests/", DataRequestListCreateView.as_view(), name="me-data-requests"),
]
