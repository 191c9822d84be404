"""Tenant-scoped reads of datasets and of the model registry; every request-serving read starts here."""

from django.db import models


class DatasetQuerySet(models.QuerySet):
    def live(self):
        from knowledgebases.choices import DatasetStatus

        return self.filter(status=DatasetStatus.VALID)

    def for_tenant(self, tenant_id: str):
        """Live datasets owned by ``tenant_id``: the ones its keys may change or delete."""
        return self.live().filter(tenant_id=tenant_id)

    def visible_to(self, user, tenant_id: str | None = None):
        """Live datasets ``user`` may read: its tenant's own, plus ``team`` datasets of joined tenants.

        ``tenant_id`` is the tenant the request acts for (an API key's tenant); it defaults to the
        user's own tenant.
        """
        from accounts.models import Membership
        from knowledgebases.choices import DatasetPermission

        own_tenant = tenant_id or user.pk
        joined = Membership.objects.tenant_ids_of(user).exclude(tenant_id=own_tenant)
        return self.live().filter(
            models.Q(tenant_id=own_tenant) | models.Q(tenant_id__in=joined, permission=DatasetPermission.TEAM)
        )


class ModelProviderQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: str):
        return self.filter(tenant_id=tenant_id)


class TenantModelQuerySet(models.QuerySet):
    def for_tenant(self, tenant_id: str):
        return self.filter(tenant_id=tenant_id, instance__is_active=True).select_related("instance__provider")
