"""Login tokens: signed JWTs that carry the user's current session id.

A token is valid only while its ``sid`` equals the user's ``access_token`` column, so a new login
or a logout invalidates every token issued before it, as in RAGFlow.
"""

from datetime import timedelta

from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

SESSION_CLAIM = "sid"
INVALID_SESSION_PREFIX = "INVALID_"


def issue_login_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=settings.LOGIN_TOKEN_LIFETIME_HOURS))
    token[SESSION_CLAIM] = user.access_token
    return str(token)


def user_for_login_token(raw_token: str):
    """Return the active user whose current session ``raw_token`` names, or None."""
    from accounts.models import User

    try:
        token = AccessToken(raw_token)
    except TokenError:
        return None
    session_id = token.get(SESSION_CLAIM)
    user_id = token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
    if not session_id or not user_id or session_id.startswith(INVALID_SESSION_PREFIX):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.access_token != session_id:
        return None
    return user
