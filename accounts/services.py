"""Registration, login sessions, profiles and API keys."""

import logging
import re
import secrets
import unicodedata

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import TenantRole
from accounts.exceptions import AccountDisabledError, LoginError, RegistrationError
from accounts.models import APIToken, Membership, Tenant, User, hash_api_key
from accounts.tokens import INVALID_SESSION_PREFIX, issue_login_token
from ragflow_site.exceptions import ArgumentError
from ragflow_site.models import new_id

logger = logging.getLogger(__name__)

# RAGFlow's registration pattern: a dotted domain and a top-level part of two or more characters.
EMAIL_PATTERN = re.compile(r"^[\w._-]+@([\w_-]+\.)+[\w-]{2,}$")
NICKNAME_MAX_CHARS = 100
API_KEY_PREFIX = "ragflow-"
# The listed prefix: "ragflow-" plus 8 of the 43 random characters, enough to tell keys apart.
API_KEY_DISPLAY_CHARS = len(API_KEY_PREFIX) + 8
BETA_TOKEN_CHARS = 32
PROFILE_FIELDS = ("nickname", "avatar", "language", "color_schema", "timezone")


def validate_nickname(nickname) -> str:
    if nickname is None:
        raise RegistrationError("Nickname is required.")
    if not isinstance(nickname, str):
        raise RegistrationError("Nickname contains invalid characters.")
    nickname = nickname.strip()
    if not nickname:
        raise RegistrationError("Nickname cannot be empty.")
    if len(nickname) > NICKNAME_MAX_CHARS:
        raise RegistrationError(f"Nickname must be at most {NICKNAME_MAX_CHARS} characters.")
    if any(unicodedata.category(char).startswith("C") for char in nickname):
        raise RegistrationError("Nickname contains invalid characters.")
    return nickname


def validate_email(email) -> str:
    if not isinstance(email, str) or not EMAIL_PATTERN.match(email.strip()):
        raise RegistrationError(f"Invalid email address: {email}!")
    return email.strip()


def _validate_password(password) -> str:
    if not isinstance(password, str) or not password:
        raise ArgumentError("Password must be a non-empty string.", include_data=True)
    return password


def register_user(*, email, nickname, password, is_staff: bool = False, is_superuser: bool = False) -> User:
    """Create a user with its own tenant (same id) and an owner membership in one transaction."""
    email = validate_email(email)
    nickname = validate_nickname(nickname)
    password = _validate_password(password)
    if User.objects.filter(email__iexact=email).exists():
        raise RegistrationError(f"Email: {email} has already registered!")

    try:
        with transaction.atomic():
            user = User(email=email, nickname=nickname, is_staff=is_staff, is_superuser=is_superuser)
            user.set_password(password)
            user.save()
            tenant = Tenant.objects.create(id=user.id, name=f"{nickname}‘s Kingdom")
            Membership.objects.create(tenant=tenant, user=user, role=TenantRole.OWNER, invited_by=user)
    except IntegrityError:
        # Two registrations of one email raced past the existence check; the unique index decided.
        raise RegistrationError(f"Email: {email} has already registered!") from None
    logger.info("Registered user %s with tenant %s", user.id, tenant.id)
    return user


def start_login_session(user: User) -> str:
    """Rotate the user's session id, which invalidates older login tokens, and return a new token."""
    user.access_token = new_id()
    user.last_login = timezone.now()
    user.save(update_fields=["access_token", "last_login"])
    return issue_login_token(user)


def log_in(*, email, password) -> tuple[User, str]:
    """Check email and password and return the user with a new login token."""
    if not email or not isinstance(email, str):
        raise LoginError("Unauthorized!")
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise LoginError(f"Email: {email} is not registered!")
    if not isinstance(password, str) or not user.check_password(password):
        logger.info("Failed login for user %s: wrong password", user.id)
        raise LoginError("Email and password do not match!")
    if not user.is_active:
        raise AccountDisabledError("This account has been disabled, please contact the administrator!")
    token = start_login_session(user)
    logger.info("User %s logged in", user.id)
    return user, token


def log_out(user: User) -> None:
    """End the user's login session: every login token issued so far stops working."""
    user.access_token = f"{INVALID_SESSION_PREFIX}{secrets.token_hex(16)}"
    user.save(update_fields=["access_token"])
    logger.info("User %s logged out", user.id)


def update_profile(user: User, changes: dict) -> User:
    """Apply profile changes; a password change needs the current password as ``password``."""
    updated = []
    if "new_password" in changes:
        if not user.check_password(changes.get("password") or ""):
            raise LoginError("Password error!")
        user.set_password(_validate_password(changes["new_password"]))
        updated.append("password")
    for field in PROFILE_FIELDS:
        if field not in changes:
            continue
        value = changes[field]
        if field == "nickname":
            value = validate_nickname(value)
        elif value is not None and not isinstance(value, str):
            raise ArgumentError(f"Field {field} must be a string, got {type(value).__name__}.", include_data=True)
        setattr(user, field, value)
        updated.append(field)
    if updated:
        user.save(update_fields=updated)
        logger.info("User %s updated %s", user.id, ", ".join(updated))
    return user


def create_api_key(*, tenant_id: str, created_by: User | None) -> tuple[APIToken, str]:
    """Create an API key for a tenant; return the row and the key, which is never stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    token = APIToken.objects.create(
        tenant_id=tenant_id,
        created_by=created_by,
        token_hash=hash_api_key(key),
        prefix=key[:API_KEY_DISPLAY_CHARS],
        beta=secrets.token_urlsafe(32).replace("-", "").replace("_", "")[:BETA_TOKEN_CHARS],
    )
    logger.info("Created API key %s for tenant %s", token.pk, tenant_id)
    return token, key


def revoke_api_key(*, tenant_id: str, key: str) -> int:
    """Delete a tenant's API key named by the key itself or by its listed prefix.

    A prefix shared by several keys of the tenant deletes none of them. Returns the number deleted.
    """
    tokens = APIToken.objects.for_tenant(tenant_id)
    matched = tokens.filter(token_hash=hash_api_key(key))
    if not matched.exists() and len(key) <= API_KEY_DISPLAY_CHARS:
        matched = tokens.filter(prefix=key)
        if matched.count() != 1:
            return 0
    deleted, _ = matched.delete()
    if deleted:
        logger.info("Revoked an API key of tenant %s", tenant_id)
    return deleted


def record_api_key_use(token_id: int, last_used_at) -> None:
    """Store when a key was last used, at most once a minute to keep requests free of writes."""
    now = timezone.now()
    if last_used_at is None or (now - last_used_at).total_seconds() > 60:
        APIToken.objects.filter(pk=token_id).update(last_used_at=now)
