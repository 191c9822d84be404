from django.db import models


class TaskStatus(models.TextChoices):
    """Life cycle of a task row, which is the record of truth for its RQ job."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def unfinished(cls) -> list[str]:
        return [cls.QUEUED, cls.RUNNING]


class TaskType(models.TextChoices):
    PARSE = "", "Parse document"
    GRAPHRAG = "graphrag", "Knowledge graph"
    RAPTOR = "raptor", "RAPTOR summaries"
