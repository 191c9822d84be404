"""System routes: ping, version, public configuration and health."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from ragflow_site.api.responses import json_result
from ragflow_site.health import run_checks


class PingView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return HttpResponse("pong", content_type="text/plain")


class VersionView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return json_result(f"v{settings.RAGFLOW_VERSION}")


class LanguageView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return json_result({"language": "python"})


class ConfigView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return json_result(
            {"registerEnabled": int(settings.REGISTER_ENABLED), "disablePasswordLogin": settings.DISABLE_PASSWORD_LOGIN}
        )


class HealthzView(APIView):
    """Plain JSON (no envelope): HTTP 200 when every backing service works, else 500."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        body = run_checks()
        return JsonResponse(body, status=200 if body["status"] == "ok" else 500)


class StatusView(APIView):
    """Authenticated status: the same checks in the envelope, with the engine types."""

    def get(self, request):
        checks = run_checks()
        meta = checks["_meta"]

        def entry(name: str, kind: str) -> dict:
            return {"type": kind, "status": "green" if checks[name] == "ok" else "red", **meta[name]}

        return json_result(
            {
                "doc_engine": entry("doc_engine", "pgvector"),
                "storage": entry("storage", settings.STORAGES["default"]["BACKEND"].rsplit(".", 1)[-1]),
                "database": entry("db", "postgresql"),
                "redis": entry("redis", "redis"),
            }
        )
