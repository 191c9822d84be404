"""Register, login, logout and profile routes through HTTP."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Tenant, User

UNAUTHORIZED = {"code": 401, "message": "<Unauthorized '401: Unauthorized'>", "data": None}


def register(client, **overrides):
    body = {"email": "alice@example.com", "nickname": "alice", "password": "s3cret"}
    body.update(overrides)
    return client.post("/api/v1/users", body, format="json")


def login(client, email="alice@example.com", password="s3cret"):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


@pytest.mark.django_db
class TestRegister:
    def test_register_creates_user_tenant_owner(self, api_client):
        response = register(api_client)

        assert response.status_code == 200
        body = response.json()
        assert body["code"] == 0
        assert body["message"] == "alice, welcome aboard!"
        assert body["data"]["email"] == "alice@example.com"
        assert "password" not in body["data"]
        assert "access_token" not in body["data"]
        user = User.objects.get(email="alice@example.com")
        assert Tenant.objects.filter(id=user.id).exists()
        assert Membership.objects.get(user=user).role == "owner"
        assert user.password != "s3cret"
        assert user.check_password("s3cret")

    def test_register_returns_working_login_token(self, api_client):
        response = register(api_client)
        token = response["Authorization"]

        assert "Authorization" in response["Access-Control-Expose-Headers"]
        me = APIClient().get("/api/v1/users/me", HTTP_AUTHORIZATION=token)
        assert me.json()["data"]["email"] == "alice@example.com"

    @pytest.mark.parametrize("missing", ["email", "nickname", "password"])
    def test_missing_field(self, api_client, missing):
        body = {"email": "bob@example.com", "nickname": "bob", "password": "pw"}
        del body[missing]

        response = api_client.post("/api/v1/users", body, format="json")

        assert response.status_code == 200
        assert response.json()["code"] == 101
        assert response.json()["message"] == f"required argument are missing: {missing}; "

    @pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.com", ""])
    def test_invalid_email(self, api_client, email):
        response = register(api_client, email=email)

        assert response.json() == {"code": 103, "message": f"Invalid email address: {email}!", "data": None}
        assert not User.objects.exists()

    def test_duplicate_email_case_insensitive(self, api_client):
        register(api_client)

        response = register(api_client, email="ALICE@example.com")

        assert response.json()["code"] == 103
        assert response.json()["message"] == "Email: ALICE@example.com has already registered!"
        assert User.objects.count() == 1

    @pytest.mark.parametrize(
        ("nickname", "message"),
        [
            ("   ", "Nickname cannot be empty."),
            ("x" * 101, "Nickname must be at most 100 characters."),
            ("bad\x00name", "Nickname contains invalid characters."),
            (None, "Nickname is required."),
        ],
    )
    def test_invalid_nickname(self, api_client, nickname, message):
        response = register(api_client, nickname=nickname)

        assert response.json()["code"] == 103
        assert response.json()["message"] == message

    def test_malformed_json(self, api_client):
        response = api_client.post("/api/v1/users", data="{bad json", content_type="application/json")

        assert response.status_code == 200
        assert response.json()["code"] == 101
        assert "Malformed JSON" in response.json()["message"]

    def test_json_array_body(self, api_client):
        response = api_client.post("/api/v1/users", data="[1, 2]", content_type="application/json")

        assert response.status_code == 200
        assert response.json()["code"] == 101
        assert response.json()["message"] == "Invalid request payload: expected object, got list"

    def test_form_encoded_body(self, api_client):
        response = api_client.post("/api/v1/users", {"email": "form@example.com", "nickname": "f", "password": "p"})

        assert response.json()["code"] == 0
        assert User.objects.filter(email="form@example.com").exists()

    def test_registration_disabled(self, api_client, settings):
        settings.REGISTER_ENABLED = False

        response = register(api_client)

        assert response.json()["code"] == 103
        assert response.json()["message"] == "User registration is disabled!"

    def test_register_throttled(self, api_client, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"register": "2/minute", "login": "2/minute"},
        }
        from rest_framework.throttling import ScopedRateThrottle

        ScopedRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        try:
            codes = [register(api_client, email=f"t{i}@example.com").status_code for i in range(3)]
        finally:
            from rest_framework.settings import api_settings

            ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

        assert codes == [200, 200, 429]


@pytest.mark.django_db
class TestLogin:
    def test_login_returns_token_header(self, api_client):
        register(api_client)

        response = login(api_client)

        assert response.json()["code"] == 0
        assert response.json()["message"] == "Welcome back!"
        token = response["Authorization"]
        me = APIClient().get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert me.status_code == 200
        assert me.json()["data"]["nickname"] == "alice"

    def test_wrong_password(self, api_client):
        register(api_client)

        response = login(api_client, password="wrong")

        assert response.json() == {"code": 109, "message": "Email and password do not match!", "data": None}

    def test_unknown_email(self, api_client):
        response = login(api_client, email="nobody@example.com")

        assert response.json()["code"] == 109
        assert response.json()["message"] == "Email: nobody@example.com is not registered!"

    def test_empty_body(self, api_client):
        response = api_client.post("/api/v1/auth/login", data="", content_type="application/json")

        assert response.json() == {"code": 109, "message": "Unauthorized!", "data": None}

    def test_disabled_account(self, api_client):
        register(api_client)
        User.objects.update(is_active=False)

        response = login(api_client)

        assert response.json()["code"] == 403

    def test_new_login_invalidates_older_token(self, api_client):
        register(api_client)
        first = login(api_client)["Authorization"]

        login(api_client)

        stale = APIClient().get("/api/v1/users/me", HTTP_AUTHORIZATION=first)
        assert stale.status_code == 401
        assert stale.json() == UNAUTHORIZED

    def test_login_wrong_content_type(self, api_client):
        register(api_client)

        response = api_client.post("/api/v1/auth/login", data="<xml/>", content_type="text/xml")

        assert response.status_code == 200
        assert response.json()["code"] == 109


@pytest.mark.django_db
class TestLogoutAndProfile:
    def test_logout_invalidates_login_token(self, api_client):
        token = register(api_client)["Authorization"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)

        response = client.post("/api/v1/auth/logout")

        assert response.json() == {"code": 0, "message": "success", "data": True}
        after = client.get("/api/v1/users/me")
        assert after.status_code == 401
        assert after.json() == UNAUTHORIZED

    def test_logout_keeps_api_keys(self, api_client):
        token = register(api_client)["Authorization"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        key = client.post("/api/v1/system/tokens").json()["data"]["token"]

        client.post("/api/v1/auth/logout")

        with_key = APIClient().get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {key}")
        assert with_key.status_code == 200

    def test_patch_profile(self, auth_client, user):
        response = auth_client.patch("/api/v1/users/me", {"nickname": "renamed", "language": "Chinese"}, format="json")

        assert response.json()["code"] == 0
        user.refresh_from_db()
        assert user.nickname == "renamed"
        assert user.language == "Chinese"

    def test_patch_password_needs_current(self, auth_client, user):
        wrong = auth_client.patch("/api/v1/users/me", {"password": "bad", "new_password": "n"}, format="json")
        right = auth_client.patch(
            "/api/v1/users/me", {"password": "secret-pass", "new_password": "new-pass"}, format="json"
        )

        assert wrong.json()["code"] == 109
        assert right.json()["code"] == 0
        user.refresh_from_db()
        assert user.check_password("new-pass")

    def test_patch_rejects_non_string(self, auth_client):
        response = auth_client.patch("/api/v1/users/me", {"language": 5}, format="json")

        assert response.status_code == 200
        assert response.json()["code"] == 101
        assert "language" in response.json()["message"]

    def test_patch_non_object_json(self, auth_client):
        response = auth_client.patch("/api/v1/users/me", data=json.dumps("text"), content_type="application/json")

        assert response.status_code == 200
        assert response.json()["code"] == 101
