"""RAPTOR: a tree of summaries over a dataset's chunks, stored as chunks of kind ``raptor``.

Each level clusters the current nodes' embeddings (PCA, then a Gaussian mixture whose number of
components minimises BIC), asks the chat model to summarise each cluster, embeds the summaries and
makes them the next level's nodes. It stops when one node remains or a level does not shrink.
Summaries are ordinary chunks for retrieval, so questions about themes can match them.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from pydantic import ValidationError
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from documents import chunk_store
from documents.fulltext import analyze
from documents.models import Chunk
from knowledgebases.chat import OpenAICompatibleChat, chat_model_of_dataset, estimate_tokens
from knowledgebases.index_support import (
    RAPTOR_KIND,
    IndexBuildError,
    IndexContext,
    dataset_embedder,
    embed_in_batches,
    parsed_chunks,
    parsed_documents,
)
from knowledgebases.llm_calls import RequestFailed, RetryPolicy, ask_text, take_within_budget
from knowledgebases.models import Dataset
from knowledgebases.parser_config import RaptorConfig

logger = logging.getLogger(__name__)

# Dimensions kept by PCA before the Gaussian mixture: a mixture in 384 dimensions needs far more
# samples than a document has chunks, and ten components keep most of the variance of small sets.
REDUCED_DIMENSIONS = 10
# Variance added to every mixture component (GaussianMixture's reg_covar) on the unit-scaled points.
# Without a floor, BIC prefers one component per chunk because a single point has zero variance.
# On synthetic data, 0.05 kept well-separated groups of 3 to 20 points apart and left pure noise in
# one cluster. Floors of 0.01 and below split noise into many clusters.
VARIANCE_FLOOR = 0.05
# Tree levels at most; each level at least halves the nodes in practice, so eight levels cover
# hundreds of thousands of chunks.
MAX_LEVELS = 8
# Positions of summaries: far beyond any parsed chunk's (page * 1,000,000 + index), one block per level.
POSITION_BASE = 10**15
POSITION_LEVEL_STEP = 10**6
# Attempts and backoff of one summary request; the raptor settings have no retry keys.
SUMMARY_POLICY = RetryPolicy(attempts=3, backoff_seconds=2.0, backoff_max_seconds=30.0)
# Vectors closer than this (largest absolute difference) count as identical.
IDENTICAL_TOLERANCE = 1e-6
# Chunk methods of structured data (rows of a table), skipped when ``auto_disable_for_structured_data``.
STRUCTURED_CHUNK_METHODS = ("table",)
SUMMARY_SYSTEM = "You summarise passages faithfully, keeping their facts, names and numbers."


def raptor_settings(dataset: Dataset) -> RaptorConfig:
    config = (dataset.parser_config or {}).get("raptor") or {}
    known = {key: value for key, value in config.items() if key in RaptorConfig.model_fields}
    try:
        return RaptorConfig.model_validate(known)
    except ValidationError as error:
        raise IndexBuildError(f"Invalid raptor settings of dataset {dataset.pk}: {error}") from None


def all_identical(vectors: np.ndarray) -> bool:
    return bool(np.all(np.abs(vectors - vectors[0]) <= IDENTICAL_TOLERANCE))


def choose_clusters(vectors: np.ndarray, *, max_cluster: int, seed: int, threshold: float) -> list[list[int]]:
    """Cluster row vectors; return lists of row indexes, one per non-empty cluster.

    The number of components is the one with the lowest BIC among 1..min(max_cluster, n - 1). A
    row joins every cluster whose probability is at least ``threshold``, and its most likely one
    when none reaches it (soft clustering, as the RAPTOR paper does).
    """
    count = len(vectors)
    dimensions = min(REDUCED_DIMENSIONS, count - 2, vectors.shape[1])
    points = vectors - vectors.mean(axis=0)
    if 1 <= dimensions < vectors.shape[1]:
        points = PCA(n_components=dimensions, random_state=seed).fit_transform(vectors)
    # Scale to unit root-mean-square norm so that the variance floor below means the same for
    # every embedding model.
    scale = float(np.sqrt((points**2).sum(axis=1).mean()))
    if scale > 0:
        points = points / scale

    best, best_bic = None, None
    for components in range(1, max(1, min(max_cluster, count - 1)) + 1):
        mixture = GaussianMixture(
            n_components=components, covariance_type="spherical", reg_covar=VARIANCE_FLOOR, random_state=seed
        ).fit(points)
        bic = mixture.bic(points)
        if best_bic is None or bic < best_bic:
            best, best_bic = mixture, bic

    probabilities = best.predict_proba(points)
    clusters: dict[int, list[int]] = {}
    for row, row_probabilities in enumerate(probabilities):
        members = [int(label) for label in np.flatnonzero(row_probabilities >= threshold)] or [int(np.argmax(row_probabilities))]
        for label in members:
            clusters.setdefault(label, []).append(row)
    return [clusters[label] for label in sorted(clusters)]


@dataclass
class Node:
    text: str
    vector: list[float]
    # Parsed documents under this node, counted by chunk, to attach its summary to one of them.
    documents: Counter = field(default_factory=Counter)


@dataclass
class Summary:
    level: int
    number: int
    node: Node


class RaptorBuilder:
    """One run of the RAPTOR job over a dataset."""

    def __init__(
        self,
        dataset: Dataset,
        context: IndexContext,
        *,
        chat: OpenAICompatibleChat | None = None,
        embedder=None,
        policy: RetryPolicy | None = None,
    ):
        self.dataset = dataset
        self.context = context
        self.settings = raptor_settings(dataset)
        self.chat = chat or chat_model_of_dataset(dataset, attempts=1)
        self.embedder = embedder or dataset_embedder(dataset)
        self.policy = policy or SUMMARY_POLICY
        self.failed_summaries: list[str] = []

    def _summarise(self, texts: list[str], label: str) -> str:
        template = self.settings.prompt
        budget = self.chat.prompt_budget(self.settings.max_token)
        used = estimate_tokens(template) + estimate_tokens(SUMMARY_SYSTEM)
        kept, _ = take_within_budget(texts, used, budget, separator_tokens=2)
        if not kept:
            raise RequestFailed("the cluster's first passage alone exceeds the prompt budget")
        prompt = template.replace("{cluster_content}", "\n\n".join(kept))
        messages = [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": prompt}]
        return ask_text(
            self.chat, messages, max_tokens=self.settings.max_token, policy=self.policy,
            cancel=self.context.check_cancelled, label=label,
        )

    def build_tree(self, nodes: list[Node], label: str) -> list[Summary]:
        """Summarise ``nodes`` level by level; return the summaries of every level."""
        if len(nodes) < 3:
            self.context.report(None, f"{label}: {len(nodes)} chunks, fewer than three; skipping clustering.")
            return []
        if all_identical(np.array([node.vector for node in nodes], dtype=float)):
            self.context.report(None, f"{label}: all {len(nodes)} chunk embeddings are identical; skipping clustering.")
            return []

        summaries: list[Summary] = []
        layer = nodes
        for level in range(1, MAX_LEVELS + 1):
            if len(layer) <= 1:
                break
            vectors = np.array([node.vector for node in layer], dtype=float)
            if len(layer) < 3 or all_identical(vectors):
                clusters = [list(range(len(layer)))]
            else:
                clusters = choose_clusters(
                    vectors, max_cluster=self.settings.max_cluster, seed=self.settings.random_seed,
                    threshold=self.settings.clustering_threshold,
                )
            if len(clusters) >= len(layer):
                self.context.report(None, f"{label}: level {level} would not shrink ({len(layer)} nodes); stopping.")
                break

            next_layer = []
            for number, members in enumerate(clusters, start=1):
                self.context.check_cancelled()
                name = f"{label}: summary {number} of level {level}"
                try:
                    text = self._summarise([layer[index].text for index in members], name)
                except RequestFailed as failure:
                    self.failed_summaries.append(f"{name}: {failure.reason}")
                    self.context.report(None, f"[WARNING] {name} failed and its cluster is skipped: {failure.reason}")
                    continue
                documents = Counter()
                for index in members:
                    documents.update(layer[index].documents)
                next_layer.append(Summary(level=level, number=number, node=Node(text=text, vector=[], documents=documents)))
            if not next_layer:
                break
            vectors = embed_in_batches(self.embedder, [summary.node.text for summary in next_layer], self.context.check_cancelled)
            for summary, vector in zip(next_layer, vectors):
                summary.node.vector = vector
            summaries.extend(next_layer)
            self.context.report(None, f"{label}: level {level} has {len(next_layer)} summaries of {len(layer)} nodes")
            layer = [summary.node for summary in next_layer]
        return summaries

    def _store(self, document_ids: list[str], summaries: list[Summary]) -> int:
        from documents.chunking import default_token_counter

        counter = default_token_counter()
        rows = []
        for summary in summaries:
            # NOTE: a chunk belongs to one document, so a summary spanning documents (dataset scope)
            # is stored under the one with most chunks in it and outlives the deletion of the others.
            document_id = summary.node.documents.most_common(1)[0][0]
            position = POSITION_BASE + summary.level * POSITION_LEVEL_STEP + summary.number
            rows.append(
                Chunk(
                    id=chunk_store.chunk_id(document_id, position, summary.node.text),
                    dataset_id=self.dataset.pk, document_id=document_id, task_id=self.context.task_id,
                    position=position, content=summary.node.text, content_tokens=analyze(summary.node.text),
                    embedding=summary.node.vector, embedding_dimension=len(summary.node.vector),
                    token_count=counter.count(summary.node.text), kind=RAPTOR_KIND,
                )
            )
        for dimension in {len(summary.node.vector) for summary in summaries}:
            chunk_store.ensure_vector_index(dimension)
        with transaction.atomic():
            self.context.guard()
            Chunk.objects.filter(document_id__in=document_ids, kind=RAPTOR_KIND).delete()
            Chunk.objects.bulk_create(rows, batch_size=500)
            chunk_store.refresh_search_vectors(chunk_ids=[row.id for row in rows])
        return len(rows)

    def _groups(self) -> list[tuple[str, list]]:
        documents = list(parsed_documents(self.dataset.pk))
        if self.settings.auto_disable_for_structured_data:
            structured = [d for d in documents if d.chunk_method in STRUCTURED_CHUNK_METHODS]
            if structured:
                self.context.report(None, f"Skipping {len(structured)} documents of structured data (table chunk method)")
            documents = [d for d in documents if d.chunk_method not in STRUCTURED_CHUNK_METHODS]
        if self.settings.scope == "dataset":
            return [("Dataset", documents)] if documents else []
        summarised = set(
            Chunk.objects.filter(dataset_id=self.dataset.pk, kind=RAPTOR_KIND).values_list("document_id", flat=True).distinct()
        )
        pending = [d for d in documents if d.pk not in summarised]
        if len(pending) < len(documents):
            self.context.report(None, f"{len(documents) - len(pending)} documents already have RAPTOR summaries")
        return [(f"Document {d.name}", [d]) for d in pending]

    def run(self) -> str:
        """Build the summary trees; return the final trace line. Raises IndexBuildError when every summary failed."""
        started = time.perf_counter()
        groups = self._groups()
        self.context.report(0.01, f"Start RAPTOR ({self.settings.scope} scope): {len(groups)} groups to summarise")
        stored = 0
        for number, (label, documents) in enumerate(groups, start=1):
            document_ids = [document.pk for document in documents]
            nodes = [
                Node(text=row.content, vector=list(row.embedding), documents=Counter({row.document_id: 1}))
                for row in parsed_chunks(self.dataset.pk, document_ids).only("content", "embedding", "document_id")
                if row.embedding is not None
            ]
            summaries = self.build_tree(nodes, label)
            if summaries:
                stored += self._store(document_ids, summaries)
            self.context.report(0.01 + 0.98 * number / len(groups))
        if self.failed_summaries and not stored:
            raise IndexBuildError(f"All {len(self.failed_summaries)} summary requests failed; the last error: {self.failed_summaries[-1]}")
        failed = f", {len(self.failed_summaries)} failed summaries" if self.failed_summaries else ""
        return f"RAPTOR done: {stored} summaries{failed} ({time.perf_counter() - started:.2f}s)"


def build_raptor_index(dataset: Dataset, context: IndexContext) -> str:
    return RaptorBuilder(dataset, context).run()


def delete_raptor_chunks(dataset_id: str) -> int:
    """Delete every RAPTOR summary of a dataset; return how many were deleted."""
    deleted, _ = Chunk.objects.filter(dataset_id=dataset_id, kind=RAPTOR_KIND).delete()
    logger.info("Deleted %d RAPTOR summaries of dataset %s", deleted, dataset_id)
    return deleted
