"""DRF authentication by the ``Authorization`` header: an API key or a login token."""

import logging
from dataclasses import dataclass

from django.db.models import Subquery
from rest_framework import authentication, exceptions

from accounts.models import APIToken, User, hash_api_key
from accounts.services import API_KEY_PREFIX, record_api_key_use
from accounts.tokens import user_for_login_token

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    """What authenticated a request: ``kind`` is "api_key" or "login"; ``tenant_id`` is acted for."""

    kind: str
    tenant_id: str
    api_token_id: int | None = None


def extract_token(header: str) -> str:
    """Strip a leading ``Bearer`` (any case); a header without it is the token itself."""
    header = header.strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return header


class BearerAuthentication(authentication.BaseAuthentication):
    """Accept ``Authorization: [Bearer] <API key or login token>``.

    A header that names no valid credential fails the request with HTTP 401 instead of falling
    through to session authentication.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header:
            return None
        token = extract_token(header)
        if not token:
            raise exceptions.AuthenticationFailed()

        if token.startswith(API_KEY_PREFIX):
            return self._authenticate_api_key(token)
        user = user_for_login_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed()
        return user, Credential(kind="login", tenant_id=user.id)

    def _authenticate_api_key(self, key: str):
        tokens = APIToken.objects.filter(token_hash=hash_api_key(key))
        # The key acts for its tenant, whose owner is the user with the same id. One query reads the
        # owner with the key's fields, because every API request pays for each round trip.
        user = (
            User.objects.filter(pk=Subquery(tokens.values("tenant_id")), is_active=True)
            .annotate(api_token_id=Subquery(tokens.values("pk")), api_token_used_at=Subquery(tokens.values("last_used_at")))
            .first()
        )
        if user is None:
            api_token = tokens.first()
            if api_token is not None:
                logger.warning("API key %s belongs to tenant %s with no active owner", api_token.pk, api_token.tenant_id)
            raise exceptions.AuthenticationFailed()
        record_api_key_use(user.api_token_id, user.api_token_used_at)
        return user, Credential(kind="api_key", tenant_id=user.pk, api_token_id=user.api_token_id)

    def authenticate_header(self, request):
        return "Bearer"


def tenant_id_of(request) -> str:
    """Return the tenant a request acts for: the key's tenant, else the user's own tenant."""
    if isinstance(request.auth, Credential):
        return request.auth.tenant_id
    return request.user.id
