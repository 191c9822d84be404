"""Users, their tenants, team membership and API keys."""

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower

from accounts.choices import TenantRole
from accounts.querysets import APITokenQuerySet, MembershipQuerySet
from ragflow_site.models import TimestampedModel, new_id

# RAGFlow's default tenant settings values, shown in the timezone field of a new user.
DEFAULT_TIMEZONE = "UTC+0\tUTC"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("nickname", email.split("@", 1)[0])
        from accounts import services

        return services.register_user(email=email, nickname=extra_fields.pop("nickname"), password=password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin, TimestampedModel):
    """A person who signs in with an email address; owns the tenant with the same id."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    email = models.EmailField(max_length=255, unique=True)
    nickname = models.CharField(max_length=100)
    avatar = models.TextField(blank=True, null=True)
    language = models.CharField(max_length=32, default="English")
    color_schema = models.CharField(max_length=32, default="Bright")
    timezone = models.CharField(max_length=64, default=DEFAULT_TIMEZONE)
    login_channel = models.CharField(max_length=32, default="password")
    # Current login session: login tokens carry it, logout rewrites it to "INVALID_<hex>".
    access_token = models.CharField(max_length=64, blank=True, default="", db_index=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self):
        return self.email


class Tenant(TimestampedModel):
    """The owner of datasets and model settings; one per user, sharing the user's id."""

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    name = models.CharField(max_length=150)
    llm_id = models.CharField(max_length=255, blank=True, default="")
    embd_id = models.CharField(max_length=255, blank=True, default="")
    rerank_id = models.CharField(max_length=255, blank=True, default="")
    asr_id = models.CharField(max_length=255, blank=True, default="")
    img2txt_id = models.CharField(max_length=255, blank=True, default="")
    tts_id = models.CharField(max_length=255, blank=True, default="")
    parser_ids = models.TextField(blank=True, default="")
    members = models.ManyToManyField(User, through="Membership", through_fields=("tenant", "user"), related_name="tenants")

    def __str__(self):
        return self.name


class Membership(TimestampedModel):
    """A user's role in a tenant's team."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=TenantRole.choices)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="accounts_membership_unique")]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.role})"


def hash_api_key(key: str) -> str:
    """Return the SHA-256 hex digest under which an API key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


class APIToken(TimestampedModel):
    """An API key of a tenant. Only its hash and a short prefix for display are stored."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=24)
    # Share token for embedded widgets, returned by the token list as RAGFlow does.
    beta = models.CharField(max_length=32)
    dialog_id = models.CharField(max_length=32, blank=True, null=True)
    source = models.CharField(max_length=16, blank=True, null=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = APITokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.tenant_id})"
