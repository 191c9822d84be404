from django.db import models


class RunStatus(models.TextChoices):
    """Parsing state of a document, stored as RAGFlow's one-digit code."""

    UNSTART = "0", "Not started"
    RUNNING = "1", "Running"
    CANCEL = "2", "Cancelled"
    DONE = "3", "Done"
    FAIL = "4", "Failed"
    # Used by connector scheduling; the API reports it as UNSTART.
    SCHEDULE = "5", "Scheduled"

    @classmethod
    def api_name(cls, value: str) -> str:
        """Return the name the API shows for a stored code: UNSTART for SCHEDULE and unknown codes."""
        if value in (cls.SCHEDULE, None) or value not in cls.values:
            return cls.UNSTART.name
        return cls(value).name


class DocumentType(models.TextChoices):
    """Coarse file kind derived from the extension; ``other`` is never stored."""

    PDF = "pdf", "PDF"
    DOC = "doc", "Office, text or code"
    VISUAL = "visual", "Image or video"
    AURAL = "aural", "Audio"
    VIRTUAL = "virtual", "Virtual (no file)"
    FOLDER = "folder", "Folder"
    OTHER = "other", "Other"


class DocumentStatus(models.TextChoices):
    ENABLED = "1", "Enabled"
    DISABLED = "0", "Disabled"
