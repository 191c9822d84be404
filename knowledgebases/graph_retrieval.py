"""Knowledge-graph context for retrieval with ``use_kg``: one extra chunk placed before the others.

The chunk lists the entities nearest to the question (by embedding, plus entities named in it),
the relations among and around them, and the reports of the communities they belong to.
"""

import hashlib
import logging

from django.db.models import Q
from pgvector.django import CosineDistance

from knowledgebases.graph_models import GraphCommunity, GraphEntity, GraphRelation

logger = logging.getLogger(__name__)

# Entities, relations and community reports put into the chunk; together they stay around 1,500
# tokens, a small share of a chat prompt.
MAX_ENTITIES = 8
MAX_RELATIONS = 10
MAX_COMMUNITIES = 2
# Cosine similarity below which an entity or relation is not related enough to the question;
# entities named in the question are kept whatever their similarity.
MIN_SIMILARITY = 0.2
# Characters of each description and report shown in the chunk.
DESCRIPTION_CHARS = 400
REPORT_CHARS = 1500
# The document name RAGFlow clients show for this chunk.
CHUNK_DOCUMENT_NAME = "Related content in Knowledge Graph"


def _nearest(queryset, vector: list[float], limit: int) -> list:
    rows = (
        queryset.filter(embedding_dimension=len(vector))
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")[:limit]
    )
    return [row for row in rows if 1 - row.distance >= MIN_SIMILARITY]


def knowledge_graph_chunk(*, datasets: list, question: str, question_vector: list[float]) -> dict | None:
    """Return a retrieval chunk with the graph context for the question, or None when there is none."""
    dataset_ids = [dataset.pk for dataset in datasets]
    entities = GraphEntity.objects.filter(dataset_id__in=dataset_ids)
    if not entities.exists():
        return None

    lowered = question.casefold()
    chosen: dict[int, tuple[float, GraphEntity]] = {}
    for entity in _nearest(entities, question_vector, MAX_ENTITIES):
        chosen[entity.pk] = (1 - entity.distance, entity)
    named = [entity for entity in entities.order_by("-pagerank")[:2000] if len(entity.key) > 2 and entity.key in lowered]
    for entity in named:
        chosen[entity.pk] = (1.0, entity)
    picked = sorted(chosen.values(), key=lambda item: (-item[0], -item[1].pagerank))[:MAX_ENTITIES]
    keys_by_dataset = {(entity.dataset_id, entity.key) for _, entity in picked}
    keys = [key for _, key in keys_by_dataset]

    relations: dict[int, tuple[float, GraphRelation]] = {}
    related = GraphRelation.objects.filter(dataset_id__in=dataset_ids)
    for relation in _nearest(related, question_vector, MAX_RELATIONS):
        relations[relation.pk] = (1 - relation.distance, relation)
    for relation in related.filter(Q(source_key__in=keys) | Q(target_key__in=keys)).order_by("-weight")[: MAX_RELATIONS * 2]:
        both = (relation.dataset_id, relation.source_key) in keys_by_dataset and (relation.dataset_id, relation.target_key) in keys_by_dataset
        relations.setdefault(relation.pk, (0.9 if both else 0.5, relation))
    picked_relations = sorted(relations.values(), key=lambda item: (-item[0], -item[1].weight))[:MAX_RELATIONS]

    communities = list(
        GraphCommunity.objects.filter(dataset_id__in=dataset_ids, entity_keys__overlap=keys).order_by("-weight", "-rating")[:MAX_COMMUNITIES]
    ) if keys else []

    if not picked and not picked_relations:
        return None
    content = _render(picked, picked_relations, communities)
    digest = hashlib.blake2b(f"{sorted(dataset_ids)}:{question}".encode(), digest_size=8).hexdigest()
    logger.info(
        "Knowledge-graph chunk for datasets %s: %d entities, %d relations, %d reports",
        dataset_ids, len(picked), len(picked_relations), len(communities),
    )
    return {
        "id": digest,
        "content": content,
        "content_ltks": "",
        "document_id": "",
        "document_keyword": CHUNK_DOCUMENT_NAME,
        "dataset_id": dataset_ids[0] if len(dataset_ids) == 1 else "",
        "important_keywords": [entity.name for _, entity in picked],
        "questions": [],
        "tag_kwd": [],
        "image_id": "",
        "similarity": 1.0,
        "vector_similarity": 1.0,
        "term_similarity": 1.0,
        "positions": [],
        "doc_type_kwd": "",
        "mom_id": "",
        "row_id": 0,
    }


def _render(entities, relations, communities) -> str:
    lines = ["## Entities"]
    for score, entity in entities:
        lines.append(f"- {entity.name} ({entity.entity_type}, relevance {score:.2f}): {entity.description[:DESCRIPTION_CHARS]}")
    if relations:
        lines += ["", "## Relations"]
        for score, relation in relations:
            keywords = f" [{', '.join(relation.keywords)}]" if relation.keywords else ""
            lines.append(
                f"- {relation.source_name} - {relation.target_name}{keywords} (relevance {score:.2f}): "
                f"{relation.description[:DESCRIPTION_CHARS]}"
            )
    if communities:
        lines += ["", "## Community reports"]
        for community in communities:
            lines += [community.content[:REPORT_CHARS], ""]
    return "\n".join(lines).strip()
