"""Tenant-scoped reads of accounts data."""

from django.db import models


class APITokenQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: str):
        return self.filter(tenant_id=tenant_id)


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def tenant_ids_of(self, user):
        """Ids of the tenants whose team ``user`` belongs to (invitations not yet accepted excluded).

        The result is a query, for use as a subquery: reading the ids first would cost a round trip.
        """
        from accounts.choices import TenantRole

        return self.filter(user=user).exclude(role=TenantRole.INVITE).values("tenant_id")
