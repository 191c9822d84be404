"""Output shapes of users and API keys."""

from rest_framework import serializers

from accounts.models import APIToken, User
from ragflow_site.api.formatting import rfc1123


class RFC1123DateTimeField(serializers.Field):
    def to_representation(self, value):
        return rfc1123(value)


class UserSerializer(serializers.ModelSerializer):
    """A user without secrets (no password hash, no session id)."""

    create_date = RFC1123DateTimeField()
    update_date = RFC1123DateTimeField()
    last_login_time = RFC1123DateTimeField(source="last_login")
    status = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id", "email", "nickname", "avatar", "language", "color_schema", "timezone", "login_channel",
            "is_active", "is_superuser", "status", "last_login_time",
            "create_time", "create_date", "update_time", "update_date",
        ]

    def get_status(self, user) -> str:
        return "1" if user.is_active else "0"


class APITokenSerializer(serializers.ModelSerializer):
    """A listed API key: ``token`` is the key's prefix, because the key itself is not stored."""

    token = serializers.CharField(source="prefix")
    create_date = RFC1123DateTimeField()
    update_date = RFC1123DateTimeField()

    class Meta:
        model = APIToken
        fields = [
            "tenant_id", "token", "dialog_id", "source", "beta",
            "create_time", "create_date", "update_time", "update_date",
        ]
