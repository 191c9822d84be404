"""Reads of task rows."""

from ragflow_site.models import TimestampedQuerySet


class TaskQuerySet(TimestampedQuerySet):
    def unfinished(self):
        from tasks.choices import TaskStatus

        return self.filter(status__in=TaskStatus.unfinished())

    def for_documents(self, document_ids):
        return self.filter(document_id__in=document_ids)
