"""Abstract bases shared by the models of every app."""

import time
import uuid

from django.db import models
from django.utils import timezone


def new_id() -> str:
    """Return a new 32-character lowercase hex id, the form RAGFlow uses for every row."""
    return uuid.uuid1().hex


def now_ms() -> int:
    return int(time.time() * 1000)


class TimestampedQuerySet(models.QuerySet):
    """QuerySet whose ``update()`` also stamps ``update_time`` and ``update_date``, as ``save()`` does."""

    def update(self, **kwargs):
        kwargs.setdefault("update_time", now_ms())
        kwargs.setdefault("update_date", timezone.now())
        return super().update(**kwargs)


class TimestampedModel(models.Model):
    """Row with RAGFlow's four timestamps: epoch milliseconds and datetimes of creation and update."""

    create_time = models.BigIntegerField(default=now_ms, editable=False, db_index=True)
    create_date = models.DateTimeField(auto_now_add=True)
    update_time = models.BigIntegerField(null=True, blank=True, editable=False)
    update_date = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.update_time = now_ms()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "update_time", "update_date"}
        super().save(*args, **kwargs)
