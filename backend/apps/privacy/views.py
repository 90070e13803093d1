from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apps.common.pagination import StandardPagination
from apps.privacy.models import DataRequest
from apps.privacy.selectors import data_request_list, export_schema
from apps.privacy.serializers import DataRequestCreateSerializer, DataRequestSerializer
from apps.privacy.services import data_request_create, person_export


class DataExportThrottle(UserRateThrottle):
    """Exports per person (DATA_EXPORT_RATE): each reads everything and is logged."""

    scope = "data_export"


class DataExportView(APIView):
    """GET /api/me/export/: everything we hold about the person logged in, as one
    JSON document; logged as a data request."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [DataExportThrottle]

    @extend_schema(responses={200: export_schema()}, summary="A copy of all your data")
    def get(self, request):
        return Response(person_export(user=request.user))


class DataRequestListCreateView(generics.ListCreateAPIView):
    """GET: your requests about your data (newest first). POST: ask for a
    correction or something else; answered within 30 days."""

    permission_classes = [IsAuthenticated]
    pagination_class = StandardPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return DataRequest.objects.none()
        return data_request_list(user=self.request.user)

    def get_serializer_class(self):
        return DataRequestCreateSerializer if self.request.method == "POST" else DataRequestSerializer

    @extend_schema(request=DataRequestCreateSerializer, responses={201: DataRequestSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = data_request_create(user=self.request.user, **serializer.validated_data)
