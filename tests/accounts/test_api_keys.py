"""API keys: create, list, use, revoke, and isolation between tenants."""

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import APIToken, hash_api_key

UNAUTHORIZED = {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}
KEY_PATTERN = re.compile(r"^ragflow-[A-Za-z0-9_-]{43}$")


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.django_db
class TestApiKeys:
    def test_create_shows_key_once_stores_hash(self, auth_client, user):
        response = auth_client.post("/api/v1/system/tokens")

        data = response.json()["data"]
        assert response.json()["code"] == 0
        assert KEY_PATTERN.match(data["token"])
        assert data["tenant_id"] == user.id
        assert data["update_time"] is None
        stored = APIToken.objects.get(token_hash=hash_api_key(data["token"]))
        assert data["token"] not in (stored.prefix, stored.token_hash, stored.beta)

    def test_list_shows_prefix_only(self, auth_client):
        key = auth_client.post("/api/v1/system/tokens").json()["data"]["token"]

        listed = auth_client.get("/api/v1/system/tokens").json()["data"]

        tokens = [row["token"] for row in listed]
        assert key not in tokens
        assert key[:16] in tokens
        assert all(len(token) == 16 for token in tokens)

    def test_bearer_and_bare_key_work(self, api_key):
        for header in (f"Bearer {api_key}", f"bearer {api_key}", api_key):
            response = client_with(header).get("/api/v1/users/me")
            assert response.status_code == 200, header

    def test_revoked_key_rejected(self, auth_client, api_key):
        response = auth_client.delete(f"/api/v1/system/tokens/{api_key}")

        assert response.json() == {"code": 0, "data": True}
        after = client_with(f"Bearer {api_key}").get("/api/v1/users/me")
        assert after.status_code == 401
        assert after.json() == UNAUTHORIZED

    def test_revoke_by_listed_prefix(self, auth_client):
        key = auth_client.post("/api/v1/system/tokens").json()["data"]["token"]

        auth_client.delete(f"/api/v1/system/tokens/{key[:16]}")

        assert client_with(f"Bearer {key}").get("/api/v1/users/me").status_code == 401

    def test_revoke_unknown_key_succeeds(self, auth_client):
        response = auth_client.delete("/api/v1/system/tokens/ragflow-unknown")

        assert response.json() == {"code": 0, "data": True}

    def test_keys_invisible_to_other_tenant(self, make_user, auth_client, api_key):
        other = make_user()
        from accounts import services

        _, other_key = services.create_api_key(tenant_id=other.id, created_by=other)
        other_client = client_with(f"Bearer {other_key}")

        listed = other_client.get("/api/v1/system/tokens").json()["data"]
        other_client.delete(f"/api/v1/system/tokens/{api_key}")
        other_client.delete(f"/api/v1/system/tokens/{api_key[:16]}")

        assert [row["token"] for row in listed] == [other_key[:16]]
        assert auth_client.get("/api/v1/users/me").status_code == 200

    @pytest.mark.parametrize(
        "header",
        ["", "Bearer", "Bearer ", "Bearer ragflow-doesnotexist", "ragflow-x", "Bearer not.a.jwt", "Basic abc"],
    )
    def test_invalid_credentials(self, db, header):
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)

        response = client.get("/api/v1/system/tokens")

        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED

    def test_create_api_key_command(self, capsys):
        call_command("create_api_key", "--email", "cli@example.com", "--create-user")

        key = capsys.readouterr().out.strip()
        assert KEY_PATTERN.match(key)
        assert client_with(f"Bearer {key}").get("/api/v1/users/me").json()["data"]["email"] == "cli@example.com"

    def test_create_api_key_command_unknown_user(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="--create-user"):
            call_command("create_api_key", "--email", "nobody@example.com")
