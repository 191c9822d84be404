"""Knowledge-graph rows of a dataset: per-document mentions and the merged graph built from them.

A mention is what one document's chunks said about an entity or a relation. Entities, relations
and aliases of the merged graph are derived from the mentions, so deleting a document deletes its
mentions (by cascade) and the merged rows are rebuilt from the mentions that remain.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import VectorField

from ragflow_site.models import TimestampedModel


class MentionKind(models.TextChoices):
    ENTITY = "entity", "Entity"
    RELATION = "relation", "Relation"


class GraphDocument(TimestampedModel):
    """A document whose chunks were all extracted into the dataset's graph; re-runs skip it."""

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_documents")
    document = models.OneToOneField("documents.Document", on_delete=models.CASCADE, related_name="graph_state")
    chunk_count = models.IntegerField(default=0)

    def __str__(self):
        return f"graph state of document {self.document_id}"


class GraphMention(models.Model):
    """One entity or relation as the chat model extracted it from one piece of a document.

    ``key`` is the normalised entity name, or for a relation the two normalised names joined by
    ``RELATION_KEY_SEPARATOR`` in sorted order, because relations are undirected.
    """

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_mentions")
    document = models.ForeignKey("documents.Document", on_delete=models.CASCADE, related_name="graph_mentions")
    kind = models.CharField(max_length=16, choices=MentionKind.choices)
    key = models.CharField(max_length=600)
    name = models.CharField(max_length=300)
    target = models.CharField(max_length=300, blank=True, default="")
    entity_type = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    keywords = ArrayField(models.TextField(), default=list, blank=True)
    weight = models.FloatField(default=1.0)
    chunk_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dataset", "kind", "key"])]

    def __str__(self):
        return f"{self.kind} {self.key} in document {self.document_id}"


class GraphAlias(models.Model):
    """An entity key that entity resolution found to name the same thing as ``canonical_key``."""

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_aliases")
    alias_key = models.CharField(max_length=300)
    canonical_key = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "alias_key"], name="knowledgebases_graph_alias_unique")]

    def __str__(self):
        return f"{self.alias_key} -> {self.canonical_key}"


class GraphEntity(TimestampedModel):
    """A node of the merged graph: all mentions of one (resolved) entity name in the dataset.

    ``stale`` marks a row whose description was rebuilt without the chat and embedding models
    after a document deletion. The next index run summarises and embeds it again.
    """

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_entities")
    key = models.CharField(max_length=300)
    name = models.CharField(max_length=300)
    entity_type = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    source_chunk_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    document_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    pagerank = models.FloatField(default=0)
    # Number of relations of the entity (its degree in the graph).
    rank = models.IntegerField(default=0)
    embedding = VectorField(null=True, blank=True)
    embedding_dimension = models.SmallIntegerField(null=True, blank=True)
    stale = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "key"], name="knowledgebases_graph_entity_unique")]
        indexes = [models.Index(fields=["dataset", "pagerank"])]

    def __str__(self):
        return self.name


class GraphRelation(TimestampedModel):
    """An undirected edge of the merged graph between two entity keys (``source_key`` < ``target_key``)."""

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_relations")
    source_key = models.CharField(max_length=300)
    target_key = models.CharField(max_length=300)
    source_name = models.CharField(max_length=300)
    target_name = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    keywords = ArrayField(models.TextField(), default=list, blank=True)
    weight = models.FloatField(default=1.0)
    source_chunk_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    document_ids = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    embedding = VectorField(null=True, blank=True)
    embedding_dimension = models.SmallIntegerField(null=True, blank=True)
    stale = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "source_key", "target_key"], name="knowledgebases_graph_relation_unique"
            )
        ]

    def __str__(self):
        return f"{self.source_name} - {self.target_name}"


class GraphCommunity(TimestampedModel):
    """A community of entities found by Louvain, with the report the chat model wrote about it."""

    dataset = models.ForeignKey("knowledgebases.Dataset", on_delete=models.CASCADE, related_name="graph_communities")
    title = models.CharField(max_length=500)
    summary = models.TextField(blank=True, default="")
    # The report as rendered text: title, summary and findings; this is what retrieval returns.
    content = models.TextField(blank=True, default="")
    findings = models.JSONField(default=list, blank=True)
    rating = models.FloatField(default=0)
    entity_keys = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    # Sum of the member entities' PageRank, used to order reports.
    weight = models.FloatField(default=0)
    embedding = VectorField(null=True, blank=True)
    embedding_dimension = models.SmallIntegerField(null=True, blank=True)

    def __str__(self):
        return self.title
