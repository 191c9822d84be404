"""System routes, error envelope conventions and request limits."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
class TestSystemRoutes:
    def test_ping_is_plain_text(self, api_client):
        response = api_client.get("/api/v1/system/ping")

        assert response.status_code == 200
        assert response.content == b"pong"

    def test_version(self, api_client):
        assert api_client.get("/api/v1/system/version").json()["data"].startswith("v")

    def test_config(self, api_client):
        data = api_client.get("/api/v1/system/config").json()["data"]

        assert data == {"registerEnabled": 1, "disablePasswordLogin": False}

    @pytest.mark.parametrize("path", ["/api/v1/system/healthz", "/api/v1/system/healthz/", "/v1/system/healthz"])
    def test_healthz_all_ok(self, api_client, path):
        response = api_client.get(path)

        body = response.json()
        assert response.status_code == 200
        for name in ("db", "redis", "doc_engine", "storage", "status"):
            assert body[name] == "ok", name

    def test_healthz_reports_redis_down(self, api_client, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"

        response = api_client.get("/api/v1/system/healthz")

        body = response.json()
        assert response.status_code == 500
        assert body["redis"] == "nok"
        assert body["db"] == "ok"
        assert body["status"] == "nok"
        assert "Connection" in body["_meta"]["redis"]["error"]

    def test_status_needs_auth(self, api_client, auth_client):
        assert api_client.get("/api/v1/system/status").status_code == 401
        data = auth_client.get("/api/v1/system/status").json()["data"]
        assert data["doc_engine"]["type"] == "pgvector"
        assert data["database"]["status"] == "green"


@pytest.mark.django_db
class TestConventions:
    def test_unknown_api_route_is_json_404(self, api_client):
        response = api_client.get("/api/v1/no/such/route")

        assert response.status_code == 404
        assert response.json() == {
            "code": 404,
            "message": "Not Found: /api/v1/no/such/route",
            "data": None,
            "error": "Not Found",
        }

    def test_wrong_method_is_code_100(self, auth_client):
        response = auth_client.put("/api/v1/system/tokens")

        assert response.status_code == 200
        assert response.json()["code"] == 100
        assert "Method Not Allowed" in response.json()["message"]

    def test_trailing_slash_optional(self, auth_client):
        assert auth_client.get("/api/v1/users/me").status_code == 200
        assert auth_client.get("/api/v1/users/me/").status_code == 200

    def test_body_over_limit_rejected(self, api_client, settings):
        settings.RAGFLOW_MAX_UPLOAD_BYTES = 100

        response = api_client.post(
            "/api/v1/users", data='{"email": "' + "a" * 200 + '"}', content_type="application/json"
        )

        assert response.status_code == 413
        assert response.json()["code"] == 101
        assert "RAGFLOW_MAX_UPLOAD_BYTES" in response.json()["message"]

    def test_json_body_over_memory_limit(self, api_client, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50

        response = api_client.post(
            "/api/v1/auth/login", data='{"email": "' + "a" * 200 + '"}', content_type="application/json"
        )

        assert response.status_code == 413
        assert response.json()["code"] == 101

    def test_schema_and_swagger_served(self, api_client):
        schema = api_client.get("/api/v1/schema")
        docs = api_client.get("/api/v1/docs")

        assert schema.status_code == 200
        assert b"openapi" in schema.content
        assert docs.status_code == 200
        assert b"swagger" in docs.content.lower()

    def test_browsable_api_for_staff(self, db):
        from accounts import services

        staff = services.register_user(email="staff@example.com", nickname="staff", password="pw", is_staff=True)
        client = APIClient()
        client.force_login(staff)

        response = client.get("/api/v1/users/me", HTTP_ACCEPT="text/html")

        assert response.status_code == 200
        assert b"<html" in response.content.lower()

    def test_admin_usable_by_superuser(self, db):
        from django.test import Client

        from accounts.models import User

        User.objects.create_superuser(email="root@example.com", password="pw")
        client = Client()
        assert client.login(email="root@example.com", password="pw")

        for path in ["/admin/", "/admin/accounts/user/", "/admin/accounts/apitoken/", "/admin/accounts/tenant/"]:
            assert client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_admin_lists_every_model():
    from django.contrib import admin
    from django.apps import apps
    from django.test import Client

    from accounts.models import User

    User.objects.create_superuser(email="lists@example.com", password="pw")
    client = Client()
    client.login(email="lists@example.com", password="pw")
    project_apps = {"accounts", "knowledgebases", "documents", "tasks"}

    for model in apps.get_models():
        if model._meta.app_label not in project_apps:
            continue
        assert admin.site.is_registered(model), model
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
