"""Documents: files uploaded into a dataset, with their parsing state."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import VectorField

from documents.choices import DocumentStatus, DocumentType, RunStatus
from documents.querysets import DocumentQuerySet
from ragflow_site.models import TimestampedModel, new_id, now_ms

# RAGFlow's limit on document names, in UTF-8 bytes.
NAME_MAX_BYTES = 255


def default_document_parser_config() -> dict:
    return {"pages": [[1, 1000000]], "table_context_size": 0, "image_context_size": 0}


class Document(TimestampedModel):
    """A file in a dataset, stored through the default storage at ``location``."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="documents")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    # At most NAME_MAX_BYTES bytes of UTF-8, so never more than 255 characters.
    name = models.CharField(max_length=NAME_MAX_BYTES)
    # Storage key, generated as ``<dataset id>/<document id>/<file>``; never derived from the name.
    location = models.CharField(max_length=255, blank=True, default="")
    size = models.BigIntegerField(default=0)
    type = models.CharField(max_length=16, choices=DocumentType.choices)
    suffix = models.CharField(max_length=32, blank=True, default="")
    # Not limited to the dataset chunk methods: images and audio use "picture" and "audio".
    chunk_method = models.CharField(max_length=32)
    pipeline_id = models.CharField(max_length=32, null=True, blank=True)
    parser_config = models.JSONField(default=default_document_parser_config, blank=True)
    source_type = models.CharField(max_length=128, default="local")
    thumbnail = models.TextField(null=True, blank=True)
    # SHA-256 hex digest of the stored bytes; equal digests mean the same content was uploaded again.
    content_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    meta_fields = models.JSONField(default=dict, blank=True)

    chunk_num = models.IntegerField(default=0)
    token_num = models.IntegerField(default=0)
    progress = models.FloatField(default=0)
    progress_msg = models.TextField(blank=True, default="")
    process_begin_at = models.DateTimeField(null=True, blank=True)
    process_duration = models.FloatField(default=0)
    run = models.CharField(max_length=1, choices=RunStatus.choices, default=RunStatus.UNSTART)
    status = models.CharField(max_length=1, choices=DocumentStatus.choices, default=DocumentStatus.ENABLED)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        constraints = [
            # Uploads pick a free name with "(n)" suffixes; this closes the race between two uploads.
            models.UniqueConstraint(fields=["dataset", "name"], name="documents_document_name_unique"),
        ]
        indexes = [
            models.Index(fields=["dataset", "create_time"]),
            models.Index(fields=["dataset", "run"]),
        ]

    def __str__(self):
        return self.name


class Chunk(models.Model):
    """A piece of a document's text, indexed for full-text and vector search.

    ``embedding`` has no fixed dimension because datasets may use different embedding models;
    ``embedding_dimension`` stores its size, and each size in use has its own partial HNSW index
    over ``embedding::vector(<size>)`` (see ``documents.chunk_store``).
    """

    # 16 hex characters, as RAGFlow's chunk ids.
    id = models.CharField(primary_key=True, max_length=32)
    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="chunks")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # The parse task that produced the chunk; null for chunks added through the API.
    task = models.ForeignKey("tasks.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="chunks")
    # Reading order within the document.
    position = models.BigIntegerField(default=0)
    content = models.TextField()
    # ``content`` after CJK segmentation (documents.fulltext.analyze), the input of ``search_vector``.
    content_tokens = models.TextField(blank=True, default="")
    search_vector = SearchVectorField(null=True)
    embedding = VectorField(null=True, blank=True)
    embedding_dimension = models.SmallIntegerField(null=True, blank=True)
    token_count = models.IntegerField(default=0)
    page_numbers = ArrayField(models.IntegerField(), default=list, blank=True)
    positions = models.JSONField(default=list, blank=True)
    important_keywords = ArrayField(models.TextField(), default=list, blank=True)
    questions = ArrayField(models.TextField(), default=list, blank=True)
    tags = ArrayField(models.TextField(), default=list, blank=True)
    # RAGFlow's tag_feas: tag name to a numeric weight, as a client sent it.
    tag_features = models.JSONField(default=dict, blank=True)
    # "text", "table" or "image", as RAGFlow's doc_type_kwd.
    doc_type = models.CharField(max_length=16, default="text")
    # Empty for parsed text; "raptor" or "graph" for derived rows stored beside them.
    kind = models.CharField(max_length=16, blank=True, default="")
    available = models.BooleanField(default=True)
    create_time = models.BigIntegerField(default=now_ms)
    create_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["document", "position"]),
            models.Index(fields=["dataset", "available"]),
            models.Index(fields=["task"]),
            GinIndex(fields=["search_vector"], name="documents_chunk_search_gin"),
        ]

    def __str__(self):
        return f"chunk {self.id} of {self.document_id}"
