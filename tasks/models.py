"""Task rows: one unit of background work, such as a page range of a document to parse."""

from django.db import models

from ragflow_site.models import TimestampedModel, new_id
from tasks.choices import TaskStatus, TaskType
from tasks.querysets import TaskQuerySet

# RAGFlow's end marker for "to the end of the document" in ``to_page``.
WHOLE_DOCUMENT_END = 100_000_000


class Task(TimestampedModel):
    """A unit of work whose RQ job carries only this row's id.

    ``from_page`` and ``to_page`` are 0-based, end-exclusive page numbers of a PDF or data-row
    offsets of a spreadsheet; other documents have one task covering everything.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="tasks")
    document = models.ForeignKey(
        "documents.Document", on_delete=models.CASCADE, related_name="tasks", null=True, blank=True
    )
    task_type = models.CharField(max_length=16, choices=TaskType.choices, default=TaskType.PARSE, blank=True)
    from_page = models.IntegerField(default=0)
    to_page = models.IntegerField(default=WHOLE_DOCUMENT_END)
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    # 0..1 while working, 1 when done, -1 on failure or cancellation, as in RAGFlow.
    progress = models.FloatField(default=0)
    progress_msg = models.TextField(blank=True, default="")
    begin_at = models.DateTimeField(null=True, blank=True)
    process_duration = models.FloatField(default=0)
    # How many times a worker claimed this task; a retry or a lost worker adds one.
    attempts = models.IntegerField(default=0)
    rq_job_id = models.CharField(max_length=64, blank=True, default="")
    worker_name = models.CharField(max_length=128, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # A queued task waiting out a retry delay; the aggregator enqueues it once this time has passed.
    retry_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    chunk_count = models.IntegerField(default=0)
    token_count = models.IntegerField(default=0)

    objects = TaskQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["document", "from_page"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self):
        return f"{self.task_type or 'parse'} task {self.id} ({self.status})"

    @property
    def covers_page_range(self) -> bool:
        return self.to_page < WHOLE_DOCUMENT_END
