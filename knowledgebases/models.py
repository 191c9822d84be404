"""Datasets (RAGFlow's knowledge bases) and the tenant's registry of model providers and models."""

from django.db import models
from django.db.models.functions import Lower

from knowledgebases.choices import ChunkMethod, DatasetPermission, DatasetStatus, ModelType, ProviderKind
from knowledgebases.querysets import DatasetQuerySet, ModelProviderQuerySet, TenantModelQuerySet
from ragflow_site.models import TimestampedModel, new_id

# Index kinds whose last task id and finish time a dataset records, as RAGFlow's table does.
INDEX_TASK_KINDS = (
    "graphrag",
    "raptor",
    "mindmap",
    "wiki",
    "skill",
    "structure_graph",
    "structure_mindmap",
    "timeline",
    "session_graph",
    "session_essence",
    "structure",
)


class Dataset(TimestampedModel):
    """A tenant's collection of documents that are chunked, embedded and searched together."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="datasets")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=128)
    avatar = models.TextField(null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    language = models.CharField(max_length=32, default="English")
    # The model reference as the client wrote it (``name@provider`` or a tenant-model id).
    embedding_model = models.CharField(max_length=255)
    # The tenant-model row the reference resolved to when it was set.
    tenant_embd_id = models.CharField(max_length=32, null=True, blank=True)
    permission = models.CharField(max_length=16, choices=DatasetPermission.choices, default=DatasetPermission.ME)
    doc_num = models.IntegerField(default=0)
    chunk_num = models.IntegerField(default=0)
    token_num = models.IntegerField(default=0)
    similarity_threshold = models.FloatField(default=0.2)
    # 0.7 rather than RAGFlow's 0.3: on NFCorpus, hybrid nDCG@10 at the default threshold is highest
    # from 0.65 to 0.75 and lowest at 0.3 (bench/retrieval_eval.py, docs/benchmarks.md).
    vector_similarity_weight = models.FloatField(default=0.7)
    chunk_method = models.CharField(max_length=32, choices=ChunkMethod.choices, default=ChunkMethod.NAIVE)
    pipeline_id = models.CharField(max_length=32, null=True, blank=True)
    parser_config = models.JSONField(default=dict, blank=True)
    pagerank = models.IntegerField(default=0)
    status = models.CharField(max_length=1, choices=DatasetStatus.choices, default=DatasetStatus.VALID)

    graphrag_task_id = models.CharField(max_length=32, null=True, blank=True)
    graphrag_task_finish_at = models.DateTimeField(null=True, blank=True)
    raptor_task_id = models.CharField(max_length=32, null=True, blank=True)
    raptor_task_finish_at = models.DateTimeField(null=True, blank=True)
    mindmap_task_id = models.CharField(max_length=32, null=True, blank=True)
    mindmap_task_finish_at = models.DateTimeField(null=True, blank=True)
    wiki_task_id = models.CharField(max_length=32, null=True, blank=True)
    wiki_task_finish_at = models.DateTimeField(null=True, blank=True)
    skill_task_id = models.CharField(max_length=32, null=True, blank=True)
    skill_task_finish_at = models.DateTimeField(null=True, blank=True)
    structure_graph_task_id = models.CharField(max_length=32, null=True, blank=True)
    structure_graph_task_finish_at = models.DateTimeField(null=True, blank=True)
    structure_mindmap_task_id = models.CharField(max_length=32, null=True, blank=True)
    structure_mindmap_task_finish_at = models.DateTimeField(null=True, blank=True)
    timeline_task_id = models.CharField(max_length=32, null=True, blank=True)
    timeline_task_finish_at = models.DateTimeField(null=True, blank=True)
    session_graph_task_id = models.CharField(max_length=32, null=True, blank=True)
    session_graph_task_finish_at = models.DateTimeField(null=True, blank=True)
    session_essence_task_id = models.CharField(max_length=32, null=True, blank=True)
    session_essence_task_finish_at = models.DateTimeField(null=True, blank=True)
    structure_task_id = models.CharField(max_length=32, null=True, blank=True)
    structure_task_finish_at = models.DateTimeField(null=True, blank=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        constraints = [
            # Names are unique per tenant regardless of case, among live datasets only.
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                condition=models.Q(status=DatasetStatus.VALID),
                name="knowledgebases_dataset_name_ci_unique",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "create_time"])]

    def __str__(self):
        return self.name


class ModelProvider(TimestampedModel):
    """A model vendor a tenant has added, such as the built-in one or an OpenAI-compatible service."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="model_providers")
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)

    objects = ModelProviderQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="knowledgebases_provider_unique")]

    def __str__(self):
        return f"{self.name} ({self.tenant_id})"


class ProviderInstance(TimestampedModel):
    """One configured account of a provider: its endpoint and credentials.

    ``api_key`` is stored so that clients can call the provider; the API never returns it.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    provider = models.ForeignKey(ModelProvider, on_delete=models.CASCADE, related_name="instances")
    name = models.CharField(max_length=128)
    api_key = models.TextField(blank=True, default="")
    base_url = models.CharField(max_length=1024, blank=True, default="")
    region = models.CharField(max_length=64, blank=True, default="default")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="knowledgebases_instance_unique")]

    def __str__(self):
        return f"{self.name}@{self.provider.name}"


class TenantModel(TimestampedModel):
    """A model a tenant can use, reached through one provider instance."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="models")
    instance = models.ForeignKey(ProviderInstance, on_delete=models.CASCADE, related_name="models")
    model_type = models.CharField(max_length=16, choices=ModelType.choices)
    name = models.CharField(max_length=255)
    max_tokens = models.IntegerField(default=8192)
    # Vector size of embedding models when known; null for other types and unknown sizes.
    dimension = models.IntegerField(null=True, blank=True)
    rank = models.IntegerField(default=0)

    objects = TenantModelQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "model_type", "name"], name="knowledgebases_tenant_model_unique")
        ]

    def __str__(self):
        return self.composite_name

    @property
    def composite_name(self) -> str:
        """``<model>@<instance>@<provider>``: the reference form stored as a tenant default."""
        return f"{self.name}@{self.instance.name}@{self.instance.provider.name}"


# Knowledge-graph rows live in their own module; importing them here registers them with the app.
from knowledgebases.graph_models import (  # noqa: E402, F401
    GraphAlias,
    GraphCommunity,
    GraphDocument,
    GraphEntity,
    GraphMention,
    GraphRelation,
)
