from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import APIToken, Membership, Tenant, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    raw_id_fields = ["tenant", "invited_by"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-create_time"]
    list_display = ["email", "nickname", "is_active", "is_staff", "is_superuser", "last_login", "create_date"]
    list_filter = ["is_active", "is_staff", "is_superuser", "login_channel"]
    search_fields = ["email", "nickname", "id"]
    readonly_fields = ["id", "last_login", "create_time", "create_date", "update_date"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["id", "email", "password"]}),
        ("Profile", {"fields": ["nickname", "avatar", "language", "color_schema", "timezone", "login_channel"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "create_time", "create_date", "update_date"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "nickname", "password1", "password2"]})]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "embd_id", "llm_id", "create_date"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "create_time", "create_date", "update_date"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "create_date"]
    list_filter = ["role"]
    search_fields = ["user__email", "tenant__name", "tenant__id"]
    list_select_related = ["user", "tenant"]
    raw_id_fields = ["user", "tenant", "invited_by"]


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    """API keys can be inspected and revoked here, never created: the key is shown only at creation."""

    list_display = ["prefix", "tenant", "created_by", "last_used_at", "create_date"]
    search_fields = ["prefix", "tenant__id", "tenant__name", "created_by__email"]
    list_select_related = ["tenant", "created_by"]
    raw_id_fields = ["tenant", "created_by"]
    readonly_fields = ["prefix", "token_hash", "beta", "last_used_at", "create_time", "create_date", "update_date"]

    def has_add_permission(self, request):
        return False
