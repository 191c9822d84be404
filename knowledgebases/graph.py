"""GraphRAG: build a dataset's knowledge graph with the chat model, and keep it in step with deletions.

A run extracts entities and relations from the documents not yet in the graph, stores them as
per-document mentions, folds all mentions into the merged graph (summarising long descriptions),
optionally resolves duplicate entities and reports on communities, and computes PageRank. Deleting
a document removes its mentions and rebuilds the merged rows it touched from what remains.
"""

import logging
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from pydantic import ValidationError

from knowledgebases.chat import OpenAICompatibleChat, chat_model_of_dataset, estimate_tokens
from knowledgebases.graph_communities import (
    MAX_COMMUNITIES,
    build_graph,
    deadline_passed,
    detect_communities,
    pagerank,
    write_report,
)
from knowledgebases.graph_extract import ChunkText, Extracted, Piece, make_pieces, read_extraction
from knowledgebases.graph_merge import MergedEntity, MergedRelation, merge_mentions, resolve_alias
from knowledgebases.graph_models import (
    GraphAlias,
    GraphCommunity,
    GraphDocument,
    GraphEntity,
    GraphMention,
    GraphRelation,
)
from knowledgebases.graph_prompts import extraction_messages, follow_up_messages, summary_messages
from knowledgebases.graph_resolution import resolve
from knowledgebases.index_support import (
    IndexBuildError,
    IndexContext,
    dataset_embedder,
    embed_in_batches,
    parsed_chunks,
    parsed_documents,
)
from knowledgebases.llm_calls import RequestFailed, RetryPolicy, ask_json, take_within_budget
from knowledgebases.llm_json import AnswerFormatError
from knowledgebases.models import Dataset
from knowledgebases.parser_config import GraphragConfig

logger = logging.getLogger(__name__)

# Answer length of an extraction request: about 30 entities and 30 relations with one-sentence
# descriptions take 1,500 tokens, and a cut-off answer is still repaired and used.
EXTRACTION_ANSWER_TOKENS = 2048
# Smallest useful piece; a model whose context leaves less room is rejected before any request.
MIN_PIECE_TOKENS = 128
# Combined descriptions longer than this many tokens are summarised by the chat model, because
# retrieval puts them in prompts whole.
SUMMARY_TRIGGER_TOKENS = 400
SUMMARY_WORDS = 150
SUMMARY_ANSWER_TOKENS = 512
# Progress at the end of each phase; extraction dominates the run time.
EXTRACTED_PROGRESS = 0.7
MERGED_PROGRESS = 0.85
STORED_PROGRESS = 0.9
# Failed requests named one by one in the trace; the rest are only counted.
MAX_NAMED_FAILURES = 20


def graph_settings(dataset: Dataset) -> GraphragConfig:
    config = (dataset.parser_config or {}).get("graphrag") or {}
    known = {key: value for key, value in config.items() if key in GraphragConfig.model_fields}
    try:
        return GraphragConfig.model_validate(known)
    except ValidationError as error:
        raise IndexBuildError(f"Invalid graphrag settings of dataset {dataset.pk}: {error}") from None


def _deadline(seconds: float) -> float | None:
    """Return a monotonic deadline; 0 seconds means no limit."""
    return time.monotonic() + seconds if seconds > 0 else None


@dataclass
class Failures:
    """Requests that failed on every attempt, named in the trace and counted in the summary."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __len__(self) -> int:
        return len(self.lines)


@dataclass
class MergedRows:
    """The merged graph as it will be stored: rows by key, with descriptions and embeddings."""

    entities: dict[str, GraphEntity]
    relations: dict[str, GraphRelation]


class GraphBuilder:
    """One run of the knowledge-graph job over a dataset."""

    def __init__(self, dataset: Dataset, context: IndexContext, *, chat: OpenAICompatibleChat | None = None, embedder=None):
        self.dataset = dataset
        self.context = context
        self.settings = graph_settings(dataset)
        self.policy = RetryPolicy(
            attempts=self.settings.retry_attempts + 1,
            backoff_seconds=self.settings.retry_backoff_seconds,
            backoff_max_seconds=self.settings.retry_backoff_max_seconds,
        )
        # The piece-level retry policy above governs retries, so the client itself tries once.
        self.chat = chat or chat_model_of_dataset(dataset, attempts=1)
        self.embedder = embedder or dataset_embedder(dataset)
        self.failures = Failures()
        # Keys whose sources changed in this run: their communities need new reports.
        self.changed_entity_keys: set[str] = set()
        self.new_aliases: dict[str, str] = {}

    # ---- extraction ---------------------------------------------------------------------------

    def _piece_tokens(self) -> int:
        answers = 2 if self.settings.method == "general" else 1
        overhead = estimate_tokens(
            "\n".join(m["content"] for m in extraction_messages(self.settings.method, "", self.settings.entity_types))
        )
        if answers == 2:
            overhead += estimate_tokens(follow_up_messages([], "")[-1]["content"])
        room = self.chat.prompt_budget(EXTRACTION_ANSWER_TOKENS * answers) - overhead
        if room < MIN_PIECE_TOKENS:
            raise IndexBuildError(
                f"Chat model {self.chat.name} has a context window of {self.chat.context_tokens} tokens, too small "
                f"for extraction; register the model with a larger max_tokens."
            )
        return min(self.settings.batch_chunk_token_size, room)

    def _extract_piece(self, piece: Piece, label: str) -> list[Extracted]:
        types = self.settings.entity_types
        messages = extraction_messages(self.settings.method, piece.text, types)
        read = lambda value: read_extraction(value, types)  # noqa: E731
        extracted, answer = ask_json(
            self.chat, messages, max_tokens=EXTRACTION_ANSWER_TOKENS, policy=self.policy,
            cancel=self.context.check_cancelled, label=label, read=read,
        )
        if self.settings.method != "general":
            return extracted
        try:
            more, _ = ask_json(
                self.chat, follow_up_messages(messages, answer), max_tokens=EXTRACTION_ANSWER_TOKENS,
                policy=self.policy, cancel=self.context.check_cancelled, label=f"{label} (follow-up)", read=read,
            )
        except RequestFailed as failure:
            # The follow-up only adds missed items, so the first response is still complete.
            logger.info("%s: follow-up request failed, keeping the first answer: %s", label, failure.reason)
            return extracted
        return extracted + more

    def extract(self, documents: list) -> tuple[int, int]:
        """Extract the documents and store their mentions; return (pieces, failed pieces)."""
        names = {document.pk: document.name for document in documents}
        chunks = [
            ChunkText(id=row.id, document_id=row.document_id, content=row.content, tokens=row.token_count or estimate_tokens(row.content))
            for row in parsed_chunks(self.dataset.pk, names).only("id", "document_id", "content", "token_count")
        ]
        pieces = make_pieces(chunks, self._piece_tokens())
        chunk_counts: dict[str, int] = {}
        for chunk in chunks:
            chunk_counts[chunk.document_id] = chunk_counts.get(chunk.document_id, 0) + 1
        self.context.report(0.02, f"Extracting entities from {len(chunks)} chunks in {len(pieces)} requests")

        settings = self.settings
        deadline = _deadline(max(settings.build_subgraph_min_timeout_seconds, settings.build_subgraph_timeout_per_chunk_seconds * len(chunks)))
        failed = 0
        done = 0
        for document_id in names:
            document_pieces = [piece for piece in pieces if piece.document_id == document_id]
            mentions: list[GraphMention] = []
            document_failed = 0
            for piece in document_pieces:
                label = f"Extraction of piece {piece.number} (document {names[document_id]})"
                try:
                    if deadline_passed(deadline):
                        raise RequestFailed("extraction timed out")
                    extracted = self._extract_piece(piece, label)
                except RequestFailed as failure:
                    document_failed += 1
                    self.failures.add(f"{label}: {failure.reason}")
                    extracted = []
                mentions.extend(self._mention(item, piece) for item in extracted)
                done += 1
                self.context.report(0.02 + (EXTRACTED_PROGRESS - 0.02) * done / max(len(pieces), 1))
            failed += document_failed
            self._store_document(document_id, mentions, complete=not document_failed, chunk_count=chunk_counts.get(document_id, 0))
        return len(pieces), failed

    def _mention(self, item: Extracted, piece: Piece) -> GraphMention:
        return GraphMention(
            dataset_id=self.dataset.pk, document_id=piece.document_id, kind=item.kind, key=item.key[:600],
            name=item.name[:300], target=item.target[:300], entity_type=item.entity_type[:64],
            description=item.description, keywords=item.keywords, weight=item.weight, chunk_ids=piece.chunk_ids,
        )

    def _store_document(self, document_id: str, mentions: list[GraphMention], *, complete: bool, chunk_count: int) -> None:
        """Replace the document's mentions; mark it extracted only when every piece succeeded."""
        with transaction.atomic():
            self.context.guard()
            GraphMention.objects.filter(document_id=document_id).delete()
            GraphMention.objects.bulk_create(mentions, batch_size=500)
            if complete:
                GraphDocument.objects.update_or_create(
                    document_id=document_id, defaults={"dataset_id": self.dataset.pk, "chunk_count": chunk_count}
                )
            else:
                GraphDocument.objects.filter(document_id=document_id).delete()

    # ---- merge --------------------------------------------------------------------------------

    def _describe(self, subject: str, notes: list[str], deadline: float | None, label: str) -> str:
        joined = "\n".join(notes)
        if len(notes) < 2 or estimate_tokens(joined) <= SUMMARY_TRIGGER_TOKENS or deadline_passed(deadline):
            return joined
        budget = self.chat.prompt_budget(SUMMARY_ANSWER_TOKENS)
        used = estimate_tokens("\n".join(m["content"] for m in summary_messages(subject, [], SUMMARY_WORDS)))
        kept, _ = take_within_budget(notes, used, budget, separator_tokens=2)

        def read(value):
            text = value.get("description")
            if not isinstance(text, str) or not text.strip():
                raise AnswerFormatError('the answer has no "description" text')
            return text.strip()

        try:
            summary, _ = ask_json(
                self.chat, summary_messages(subject, kept, SUMMARY_WORDS), max_tokens=SUMMARY_ANSWER_TOKENS,
                policy=self.policy, cancel=self.context.check_cancelled, label=label, read=read,
            )
        except RequestFailed as failure:
            self.failures.add(f"{label}: {failure.reason}")
            return joined
        return summary

    def merge(self, changed_documents: set[str]) -> MergedRows:
        """Fold all mentions into merged rows, resolving duplicates and summarising changed descriptions."""
        aliases = dict(GraphAlias.objects.filter(dataset_id=self.dataset.pk).values_list("alias_key", "canonical_key"))
        mentions = list(GraphMention.objects.filter(dataset_id=self.dataset.pk))
        entities, relations = merge_mentions(mentions, aliases)
        existing_entities = {row.key: row for row in GraphEntity.objects.filter(dataset_id=self.dataset.pk)}
        existing_relations = {
            f"{row.source_key}\x1f{row.target_key}": row for row in GraphRelation.objects.filter(dataset_id=self.dataset.pk)
        }

        def changed(merged, existing) -> bool:
            return (
                existing is None
                or existing.stale
                or set(existing.source_chunk_ids) != set(merged.chunk_ids)
                or bool(changed_documents & set(merged.document_ids))
            )

        if self.settings.resolution and entities:
            changed_keys = {key for key, entity in entities.items() if changed(entity, existing_entities.get(key))}
            new_aliases = self._resolve(entities, changed_keys)
            if new_aliases:
                aliases.update(new_aliases)
                entities, relations = merge_mentions(mentions, aliases)
                self.new_aliases = new_aliases
        self.changed_entity_keys = {key for key, entity in entities.items() if changed(entity, existing_entities.get(key))}

        deadline = _deadline(self.settings.merge_timeout_seconds)
        entity_rows: dict[str, GraphEntity] = {}
        to_embed: list[tuple[object, str]] = []
        for key, merged in entities.items():
            existing = existing_entities.get(key)
            row = self._entity_row(merged)
            if changed(merged, existing):
                row.description = self._describe(merged.name, merged.notes, deadline, f"Summary of entity {merged.name}")
                to_embed.append((row, f"{row.name}: {row.description}"))
            else:
                row.description, row.embedding, row.embedding_dimension = existing.description, existing.embedding, existing.embedding_dimension
            entity_rows[key] = row

        relation_rows: dict[str, GraphRelation] = {}
        for key, merged in relations.items():
            existing = existing_relations.get(key)
            row = self._relation_row(merged, entities)
            if changed(merged, existing):
                subject = f"the relation between {row.source_name} and {row.target_name}"
                row.description = self._describe(subject, merged.notes, deadline, f"Summary of relation {row.source_name} - {row.target_name}")
                to_embed.append((row, f"{row.source_name} - {row.target_name}: {', '.join(row.keywords)}. {row.description}"))
            else:
                row.description, row.embedding, row.embedding_dimension = existing.description, existing.embedding, existing.embedding_dimension
            relation_rows[key] = row

        vectors = embed_in_batches(self.embedder, [text for _, text in to_embed], self.context.check_cancelled)
        for (row, _), vector in zip(to_embed, vectors):
            row.embedding, row.embedding_dimension = vector, len(vector)
        return MergedRows(entities=entity_rows, relations=relation_rows)

    def _entity_row(self, merged: MergedEntity) -> GraphEntity:
        return GraphEntity(
            dataset_id=self.dataset.pk, key=merged.key[:300], name=merged.name[:300], entity_type=merged.entity_type[:64],
            description=merged.joined_notes, source_chunk_ids=merged.chunk_ids, document_ids=merged.document_ids,
        )

    def _relation_row(self, merged: MergedRelation, entities: dict[str, MergedEntity]) -> GraphRelation:
        return GraphRelation(
            dataset_id=self.dataset.pk, source_key=merged.source_key, target_key=merged.target_key,
            source_name=entities[merged.source_key].name[:300], target_name=entities[merged.target_key].name[:300],
            description=merged.joined_notes, keywords=merged.keywords, weight=merged.weight,
            source_chunk_ids=merged.chunk_ids, document_ids=merged.document_ids,
        )

    def _resolve(self, entities: dict[str, MergedEntity], changed_keys: set[str]) -> dict[str, str]:
        outcome = resolve(
            self.chat, entities, changed_keys, policy=self.policy, cancel=self.context.check_cancelled,
            deadline=_deadline(self.settings.resolution_timeout_seconds),
        )
        for line in outcome.failed_batches:
            self.failures.add(f"Entity resolution {line}")
        aliases = canonical_aliases(entities, [(pair.first, pair.second) for pair in outcome.same])
        self.context.report(
            None,
            f"Entity resolution: {outcome.asked} candidate pairs, {len(outcome.same)} merged, "
            f"{len(outcome.failed_batches)} failed requests",
        )
        return aliases

    # ---- store --------------------------------------------------------------------------------

    def store(self, rows: MergedRows) -> MergedRows:
        """Replace the dataset's merged rows, reconciling with mentions deleted while the job ran."""
        with transaction.atomic():
            self.context.guard()
            lock_dataset(self.dataset.pk, self.settings.lock_acquire_timeout_seconds)
            GraphAlias.objects.bulk_create(
                [GraphAlias(dataset_id=self.dataset.pk, alias_key=alias, canonical_key=canonical) for alias, canonical in self.new_aliases.items()],
                ignore_conflicts=True,
            )
            # A document deleted while this job ran has taken its mentions with it: rebuild from
            # the mentions that exist now, and mark the rows whose sources changed as stale.
            current = rebuild_rows(self.dataset.pk, previous=rows)
            replace_graph_rows(self.dataset.pk, current)
        return current

    def communities(self, rows: MergedRows) -> int:
        """Detect communities and write a report for each new or changed one; return how many are stored."""
        graph = build_graph(rows.entities, rows.relations)
        groups = detect_communities(graph, seed=0)
        groups = groups[:MAX_COMMUNITIES]
        existing = {frozenset(row.entity_keys): row for row in GraphCommunity.objects.filter(dataset_id=self.dataset.pk)}
        changed_keys = self.changed_entity_keys | {key for key, row in rows.entities.items() if row.stale}
        descriptions = {key: row.description for key, row in rows.entities.items()}
        descriptions.update({f"{row.source_key}\x1f{row.target_key}": row.description for row in rows.relations.values()})
        relations = {f"{row.source_key}\x1f{row.target_key}": _RelationView(row) for row in rows.relations.values()}
        deadline = _deadline(self.settings.community_timeout_seconds)

        stored: list[GraphCommunity] = []
        to_embed = []
        for number, members in enumerate(groups, start=1):
            self.context.report(MERGED_PROGRESS + (0.99 - MERGED_PROGRESS) * number / max(len(groups), 1))
            previous = existing.get(frozenset(members))
            if previous is not None and not (changed_keys & set(members)):
                previous.pk = None
                stored.append(previous)
                continue
            label = f"Report of community {number} ({len(members)} entities)"
            if deadline_passed(deadline):
                self.failures.add(f"{label}: community reports timed out")
                continue
            try:
                report = write_report(
                    self.chat, members, rows.entities, descriptions, relations,
                    policy=self.policy, cancel=self.context.check_cancelled, label=label,
                )
            except RequestFailed as failure:
                self.failures.add(f"{label}: {failure.reason}")
                continue
            community = GraphCommunity(
                dataset_id=self.dataset.pk, title=report.title, summary=report.summary, content=report.render(),
                findings=report.findings, rating=report.rating, entity_keys=members,
                weight=sum(rows.entities[key].pagerank for key in members),
            )
            stored.append(community)
            to_embed.append(community)
        vectors = embed_in_batches(self.embedder, [f"{c.title}\n{c.summary}" for c in to_embed], self.context.check_cancelled)
        for community, vector in zip(to_embed, vectors):
            community.embedding, community.embedding_dimension = vector, len(vector)
        with transaction.atomic():
            self.context.guard()
            GraphCommunity.objects.filter(dataset_id=self.dataset.pk).delete()
            GraphCommunity.objects.bulk_create(stored)
        return len(stored)

    # ---- run ----------------------------------------------------------------------------------

    def run(self) -> str:
        """Build or update the graph; return the final trace line. Raises IndexBuildError when nothing could be extracted."""
        started = time.perf_counter()
        documents = list(parsed_documents(self.dataset.pk))
        chunk_counts = dict(
            parsed_chunks(self.dataset.pk).order_by().values_list("document_id").annotate(count=Count("id"))
        )
        # A document parsed again since its extraction has a different number of chunks: redo it.
        done_ids = {
            document_id
            for document_id, count in GraphDocument.objects.filter(dataset_id=self.dataset.pk).values_list("document_id", "chunk_count")
            if chunk_counts.get(document_id) == count
        }
        new_documents = [document for document in documents if document.pk not in done_ids]
        self.context.report(
            0.01,
            f"Start to build the knowledge graph ({self.settings.method}): {len(new_documents)} new of "
            f"{len(documents)} parsed documents",
        )

        pieces, failed = self.extract(new_documents) if new_documents else (0, 0)
        self._report_failures()
        if pieces and failed == pieces:
            raise IndexBuildError(f"All {pieces} extraction requests failed; the last error: {self.failures.lines[-1]}")
        self.context.report(EXTRACTED_PROGRESS, f"Extraction done: {pieces - failed} of {pieces} requests succeeded")

        if not GraphMention.objects.filter(dataset_id=self.dataset.pk, kind="entity").exists():
            with transaction.atomic():
                self.context.guard()
                replace_graph_rows(self.dataset.pk, MergedRows(entities={}, relations={}))
                GraphCommunity.objects.filter(dataset_id=self.dataset.pk).delete()
            return "0 entities extracted"

        self.failures = Failures()
        rows = self.merge({document.pk for document in new_documents})
        self.context.report(MERGED_PROGRESS, f"Merged {len(rows.entities)} entities and {len(rows.relations)} relations")
        rows = self.store(rows)
        self.context.report(STORED_PROGRESS, "Stored the graph with PageRank")

        community_count = None
        if self.settings.community:
            community_count = self.communities(rows)
        self._report_failures()

        parts = [f"{len(rows.entities)} entities", f"{len(rows.relations)} relations"]
        if community_count is not None:
            parts.append(f"{community_count} community reports")
        return f"Knowledge graph done: {', '.join(parts)} ({time.perf_counter() - started:.2f}s)"

    def _report_failures(self) -> None:
        if not self.failures.lines:
            return
        for line in self.failures.lines[:MAX_NAMED_FAILURES]:
            self.context.report(None, f"[WARNING] {line}")
        if len(self.failures) > MAX_NAMED_FAILURES:
            self.context.report(None, f"[WARNING] {len(self.failures) - MAX_NAMED_FAILURES} more requests failed")


class _RelationView:
    """A stored relation seen through the attributes that community reports read."""

    def __init__(self, row: GraphRelation):
        self.source_key, self.target_key, self.weight = row.source_key, row.target_key, row.weight
        self.key = f"{row.source_key}\x1f{row.target_key}"


def canonical_aliases(entities: dict[str, MergedEntity], same_pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Group keys that name the same entity and map every key to its group's canonical key.

    The canonical key is the one with the most source chunks, then the longest (full names carry
    more than abbreviations).
    """
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.get(key, key) != key:
            key = parent[key]
        return key

    for first, second in same_pairs:
        parent.setdefault(first, first)
        parent.setdefault(second, second)
        parent[find(first)] = find(second)

    groups: dict[str, list[str]] = {}
    for key in parent:
        groups.setdefault(find(key), []).append(key)
    aliases = {}
    for members in groups.values():
        canonical = max(members, key=lambda key: (len(entities[key].chunk_ids), len(key), key))
        aliases.update({key: canonical for key in members if key != canonical})
    return aliases


def lock_dataset(dataset_id: str, timeout_seconds: int) -> None:
    """Lock the dataset row for the graph write, waiting at most ``timeout_seconds`` (0: no limit)."""
    if timeout_seconds > 0:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(timeout_seconds)}s"])
    list(Dataset.objects.select_for_update().filter(pk=dataset_id).values_list("pk", flat=True))


def rebuild_rows(dataset_id: str, previous: MergedRows | None = None) -> MergedRows:
    """Fold the dataset's current mentions into rows and compute PageRank and degree.

    Rows whose sources equal a row of ``previous`` take its description and embedding. Other rows
    get their joined notes and are marked stale, so the next index run summarises and embeds them.
    """
    aliases = dict(GraphAlias.objects.filter(dataset_id=dataset_id).values_list("alias_key", "canonical_key"))
    entities, relations = merge_mentions(GraphMention.objects.filter(dataset_id=dataset_id), aliases)
    if previous is None:
        previous = MergedRows(
            entities={row.key: row for row in GraphEntity.objects.filter(dataset_id=dataset_id)},
            relations={f"{row.source_key}\x1f{row.target_key}": row for row in GraphRelation.objects.filter(dataset_id=dataset_id)},
        )

    rows = MergedRows(entities={}, relations={})
    for key, merged in entities.items():
        row = GraphEntity(
            dataset_id=dataset_id, key=key[:300], name=merged.name[:300], entity_type=merged.entity_type[:64],
            description=merged.joined_notes, source_chunk_ids=merged.chunk_ids, document_ids=merged.document_ids,
        )
        _carry(row, previous.entities.get(key))
        rows.entities[key] = row
    for key, merged in relations.items():
        row = GraphRelation(
            dataset_id=dataset_id, source_key=merged.source_key, target_key=merged.target_key,
            source_name=entities[merged.source_key].name[:300], target_name=entities[merged.target_key].name[:300],
            description=merged.joined_notes, keywords=merged.keywords, weight=merged.weight,
            source_chunk_ids=merged.chunk_ids, document_ids=merged.document_ids,
        )
        _carry(row, previous.relations.get(key))
        rows.relations[key] = row

    graph = build_graph(entities, relations)
    ranks = pagerank(graph)
    for key, row in rows.entities.items():
        row.pagerank = ranks.get(key, 0.0)
        row.rank = graph.degree(key) if key in graph else 0
    return rows


def _carry(row, previous) -> None:
    """Copy the description and embedding of ``previous`` when it was built from the same sources."""
    if previous is not None and set(previous.source_chunk_ids) == set(row.source_chunk_ids):
        row.description = previous.description
        row.embedding, row.embedding_dimension = previous.embedding, previous.embedding_dimension
        row.stale = previous.stale
    else:
        row.stale = True
        if previous is not None:
            # The old vector still points near the entity; the next run replaces it.
            row.embedding, row.embedding_dimension = previous.embedding, previous.embedding_dimension


def replace_graph_rows(dataset_id: str, rows: MergedRows) -> None:
    GraphEntity.objects.filter(dataset_id=dataset_id).delete()
    GraphRelation.objects.filter(dataset_id=dataset_id).delete()
    for row in [*rows.entities.values(), *rows.relations.values()]:
        row.pk = None
    GraphEntity.objects.bulk_create(rows.entities.values(), batch_size=500)
    GraphRelation.objects.bulk_create(rows.relations.values(), batch_size=500)


def build_graph_index(dataset: Dataset, context: IndexContext) -> str:
    """Run the knowledge-graph job's work for ``dataset``; return the final trace line."""
    return GraphBuilder(dataset, context).run()


def delete_graph(dataset_id: str) -> int:
    """Delete every knowledge-graph row of a dataset; return how many entities were deleted."""
    with transaction.atomic():
        entities, _ = GraphEntity.objects.filter(dataset_id=dataset_id).delete()
        GraphRelation.objects.filter(dataset_id=dataset_id).delete()
        GraphCommunity.objects.filter(dataset_id=dataset_id).delete()
        GraphMention.objects.filter(dataset_id=dataset_id).delete()
        GraphAlias.objects.filter(dataset_id=dataset_id).delete()
        GraphDocument.objects.filter(dataset_id=dataset_id).delete()
    logger.info("Deleted the knowledge graph of dataset %s (%d entities)", dataset_id, entities)
    return entities


def remove_documents(document_ids: list[str]) -> None:
    """Remove deleted documents from their datasets' graphs, inside the caller's transaction.

    What only those documents supported disappears. Entities and relations that other documents
    also mention are rebuilt from the remaining mentions without the chat model, so they are
    marked stale. Communities that contained a removed entity are dropped.
    """
    dataset_ids = list(
        GraphMention.objects.filter(document_id__in=document_ids).values_list("dataset_id", flat=True).distinct()
    )
    GraphDocument.objects.filter(document_id__in=document_ids).delete()
    if not dataset_ids:
        return
    with transaction.atomic():
        for dataset_id in dataset_ids:
            lock_dataset(dataset_id, 0)
            GraphMention.objects.filter(dataset_id=dataset_id, document_id__in=document_ids).delete()
            rows = rebuild_rows(dataset_id)
            removed = set(GraphEntity.objects.filter(dataset_id=dataset_id).values_list("key", flat=True)) - set(rows.entities)
            replace_graph_rows(dataset_id, rows)
            if removed:
                GraphCommunity.objects.filter(dataset_id=dataset_id, entity_keys__overlap=list(removed)).delete()
            logger.info(
                "Removed documents %s from the knowledge graph of dataset %s: %d entities removed, %d remain",
                document_ids, dataset_id, len(removed), len(rows.entities),
            )


__all__ = ["build_graph_index", "delete_graph", "remove_documents", "resolve_alias"]
