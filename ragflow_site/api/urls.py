"""Routes under ``/api/v1/``; each app contributes its own ``api/urls.py``."""

from django.urls import include, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ragflow_site.api import system

urlpatterns = [
    re_path(r"^system/ping/?$", system.PingView.as_view(), name="system-ping"),
    re_path(r"^system/version/?$", system.VersionView.as_view(), name="system-version"),
    re_path(r"^system/config/?$", system.ConfigView.as_view(), name="system-config"),
    re_path(r"^system/healthz/?$", system.HealthzView.as_view(), name="system-healthz"),
    re_path(r"^system/status/?$", system.StatusView.as_view(), name="system-status"),
    re_path(r"^language/?$", system.LanguageView.as_view(), name="language"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"", include("accounts.api.urls")),
    re_path(r"", include("tasks.api.urls")),
    re_path(r"", include("knowledgebases.api.urls")),
    re_path(r"", include("knowledgebases.api.index_urls")),
    re_path(r"", include("documents.api.urls")),
]
