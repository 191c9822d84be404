"""Folding of per-document mentions into one entity per name and one relation per pair of entities.

The fold is a pure function of the mentions and the alias map, so the index job and document
deletion build the same graph from the same rows.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledgebases.graph_extract import entity_key, relation_key
from knowledgebases.graph_models import MentionKind


@dataclass
class MergedEntity:
    key: str
    names: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names.most_common(1)[0][0]

    @property
    def entity_type(self) -> str:
        return self.types.most_common(1)[0][0] if self.types else ""

    @property
    def joined_notes(self) -> str:
        return "\n".join(self.notes)


@dataclass
class MergedRelation:
    key: str
    source_key: str
    target_key: str
    notes: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    weight: float = 0.0
    chunk_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)

    @property
    def joined_notes(self) -> str:
        return "\n".join(self.notes)


def _add_unique(target: list, values: Iterable) -> None:
    for value in values:
        if value and value not in target:
            target.append(value)


def resolve_alias(key: str, aliases: dict[str, str]) -> str:
    """Follow alias links to the canonical key; a cycle stops at the first key seen twice."""
    seen = {key}
    while key in aliases and aliases[key] not in seen:
        key = aliases[key]
        seen.add(key)
    return key


def merge_mentions(mentions: Iterable, aliases: dict[str, str]) -> tuple[dict[str, MergedEntity], dict[str, MergedRelation]]:
    """Return entities and relations keyed by their (alias-resolved) keys.

    ``mentions`` are GraphMention rows or objects with the same attributes. A relation whose ends
    resolve to one entity is dropped, because an entity related to itself carries no information.
    """
    entities: dict[str, MergedEntity] = {}
    relations: dict[str, MergedRelation] = {}
    relation_mentions = []
    for mention in mentions:
        if mention.kind != MentionKind.ENTITY:
            relation_mentions.append(mention)
            continue
        key = resolve_alias(mention.key, aliases)
        entity = entities.setdefault(key, MergedEntity(key=key))
        # The canonical key's own spelling wins over the spellings of its aliases.
        entity.names[mention.name] += 10 if mention.key == key else 1
        if mention.entity_type:
            entity.types[mention.entity_type] += 1
        _add_unique(entity.notes, [mention.description.strip()])
        _add_unique(entity.chunk_ids, mention.chunk_ids)
        _add_unique(entity.document_ids, [str(mention.document_id)])

    for mention in relation_mentions:
        source = resolve_alias(entity_key(mention.name), aliases)
        target = resolve_alias(entity_key(mention.target), aliases)
        if source == target or source not in entities or target not in entities:
            continue
        key = relation_key(source, target)
        low, high = sorted((source, target))
        relation = relations.setdefault(key, MergedRelation(key=key, source_key=low, target_key=high))
        _add_unique(relation.notes, [mention.description.strip()])
        _add_unique(relation.keywords, mention.keywords)
        relation.weight += mention.weight
        _add_unique(relation.chunk_ids, mention.chunk_ids)
        _add_unique(relation.document_ids, [str(mention.document_id)])
    return entities, relations
