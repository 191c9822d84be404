"""Root URLs: the API, its legacy health alias, the admin and the browsable API's login."""

from django.contrib import admin
from django.urls import include, path, re_path

from ragflow_site.api import system

urlpatterns = [
    path("api/v1/", include("ragflow_site.api.urls")),
    re_path(r"^v1/system/healthz/?$", system.HealthzView.as_view(), name="legacy-healthz"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
]

handler404 = "ragflow_site.views.not_found"
handler500 = "ragflow_site.views.server_error"
