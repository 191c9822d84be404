"""Reads of documents, always scoped to a dataset the caller may use."""

from django.db import models

from ragflow_site.exceptions import AuthorizationError, DataError
from ragflow_site.models import TimestampedQuerySet


class DocumentQuerySet(TimestampedQuerySet):
    def in_dataset(self, dataset_id: str):
        return self.filter(dataset_id=dataset_id)

    def visible_to(self, user, tenant_id: str):
        """Documents of the live datasets ``user`` may read while acting for ``tenant_id``."""
        from knowledgebases.models import Dataset

        return self.filter(dataset__in=Dataset.objects.visible_to(user, tenant_id))

    def with_content_hash(self, content_hash: str):
        return self.filter(content_hash=content_hash)

    def without_metadata(self):
        return self.filter(models.Q(meta_fields={}) | models.Q(meta_fields__isnull=True))


def dataset_for_upload(dataset_id: str, user, tenant_id: str):
    """Return the live dataset the caller may add documents to, or raise RAGFlow's upload errors."""
    from knowledgebases.models import Dataset

    if not Dataset.objects.live().filter(pk=dataset_id).exists():
        raise DataError(f"Can't find the dataset with ID {dataset_id}!")
    dataset = Dataset.objects.visible_to(user, tenant_id).filter(pk=dataset_id).first()
    if dataset is None:
        raise AuthorizationError("no authorization", include_data=False)
    return dataset


def visible_dataset(dataset_id: str, user, tenant_id: str, *, message: str):
    """Return a live dataset the caller may read (own or a joined team's), else raise DataError(message)."""
    from knowledgebases.models import Dataset

    dataset = Dataset.objects.visible_to(user, tenant_id).filter(pk=dataset_id).first()
    if dataset is None:
        raise DataError(message)
    return dataset


def owned_dataset(dataset_id: str, tenant_id: str, *, message: str):
    """Return a live dataset of the caller's own tenant, else raise DataError(message)."""
    from knowledgebases.models import Dataset

    dataset = Dataset.objects.for_tenant(tenant_id).filter(pk=dataset_id).first()
    if dataset is None:
        raise DataError(message)
    return dataset
