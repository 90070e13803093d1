"""Health for load balancers and orchestrators.

``GET /api/health/``: the process answers (liveness; touches nothing else).
``GET /api/health/ready/``: the database answers and has every migration, the
cache and the broker answer (readiness); 503 otherwise. The answer names each
component with "ok" or "failed" only: callers are anonymous, so addresses and
exception texts go to the log, for the operator.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common import sql
from apps.common.dependencies import broker_connection, retry_after_header

logger = logging.getLogger("salon.health")
OK, FAILED = "ok", "failed"


def _database() -> None:
    sql.select_one()


def _migrations() -> None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("migrations not applied")


def _cache() -> None:
    cache.set("health-probe", "ok", timeout=10)
    if cache.get("health-probe") != "ok":
        raise RuntimeError("cache did not keep a value")


def _broker() -> None:
    with broker_connection(timeout=settings.BROKER_TIMEOUT_SECONDS):
        pass


CHECKS = {"database": _database, "migrations": _migrations, "cache": _cache, "broker": _broker}


class _HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class LivenessView(_HealthView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessView(_HealthView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
    def get(self, request):
        checks = {}
        for name, check in CHECKS.items():
            if name == "migrations" and checks["database"] == FAILED:
                checks[name] = FAILED  # unknowable without the database
                continue
            try:
                check()
                checks[name] = OK
            except Exception as exc:  # each dependency fails in its own way; report, don't raise
                logger.warning("Readiness: %s failed: %s: %s", name, exc.__class__.__name__, exc)
                checks[name] = FAILED
        ready = FAILED not in checks.values()
        body = {"status": "ok" if ready else "unavailable", "checks": checks}
        return Response(body, status=200 if ready else 503, headers={} if ready else retry_after_header())
