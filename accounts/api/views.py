"""Register, login, logout, the caller's profile and API keys."""

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import tenant_id_of
from accounts.api.serializers import APITokenSerializer, UserSerializer
from accounts.exceptions import RegistrationError
from accounts.models import APIToken
from ragflow_site.api.formatting import rfc1123
from ragflow_site.api.responses import json_result, result
from ragflow_site.api.validation import read_lenient_json, require_fields
from ragflow_site.exceptions import ArgumentError


def _with_login_header(response, token: str):
    response["Authorization"] = token
    response["Access-Control-Expose-Headers"] = "Authorization"
    return response


def _require_object(payload) -> dict:
    if not isinstance(payload, dict):
        raise ArgumentError(f"Invalid request payload: expected object, got {type(payload).__name__}")
    return payload


class RegisterView(APIView):
    """``POST /users``: create an account and log it in."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    def post(self, request):
        if not settings.REGISTER_ENABLED:
            raise RegistrationError("User registration is disabled!")
        payload = _require_object(read_lenient_json(request))
        require_fields(payload, "email", "nickname", "password")
        user = services.register_user(
            email=payload["email"], nickname=payload["nickname"], password=payload["password"]
        )
        token = services.start_login_session(user)
        response = json_result(UserSerializer(user).data, message=f"{user.nickname}, welcome aboard!")
        return _with_login_header(response, token)


class LoginView(APIView):
    """``POST /auth/login``: check the password and return a login token in the Authorization header."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def post(self, request):
        if settings.DISABLE_PASSWORD_LOGIN:
            raise ArgumentError("Password login is disabled.", include_data=True)
        payload = _require_object(read_lenient_json(request))
        user, token = services.log_in(email=payload.get("email"), password=payload.get("password"))
        response = json_result(UserSerializer(user).data, message="Welcome back!")
        return _with_login_header(response, token)


class LogoutView(APIView):
    """``POST /auth/logout``: invalidate the caller's login tokens (API keys keep working)."""

    def post(self, request):
        services.log_out(request.user)
        return json_result(True)


class MeView(APIView):
    """``GET|PATCH /users/me``: the caller's profile."""

    def get(self, request):
        return json_result(UserSerializer(request.user).data)

    def patch(self, request):
        payload = _require_object(read_lenient_json(request))
        user = services.update_profile(request.user, payload)
        return json_result(UserSerializer(user).data)


class TokenListCreateView(APIView):
    """``GET|POST /system/tokens``: list the tenant's API keys or create one."""

    def get(self, request):
        tokens = APIToken.objects.for_tenant(tenant_id_of(request)).order_by("-create_time")
        return json_result(APITokenSerializer(tokens, many=True).data)

    def post(self, request):
        token, key = services.create_api_key(tenant_id=tenant_id_of(request), created_by=request.user)
        data = {
            "tenant_id": token.tenant_id,
            "token": key,
            "beta": token.beta,
            "create_time": token.create_time,
            "create_date": rfc1123(token.create_date),
            "update_time": None,
            "update_date": None,
        }
        return json_result(data)


class TokenDeleteView(APIView):
    """``DELETE /system/tokens/<token>``: revoke a key; succeeds for unknown keys as RAGFlow does."""

    def delete(self, request, token: str):
        services.revoke_api_key(tenant_id=tenant_id_of(request), key=token)
        return result(True)
