"""The stored knowledge graph as the API returns it: networkx node-link JSON and a mind map."""

from collections import defaultdict

from django.db.models import F

from knowledgebases.graph_models import GraphEntity, GraphRelation

# RAGFlow's graph endpoint returns at most 256 nodes (highest PageRank first) and 128 edges
# (highest weight first) so that a browser can draw the graph.
MAX_NODES = 256
MAX_EDGES = 128
# Branches of the mind map: entities per type and related entities per entity, so it stays readable.
MIND_MAP_ENTITIES_PER_TYPE = 8
MIND_MAP_RELATIONS_PER_ENTITY = 5


def node_link_graph(dataset_id: str) -> dict:
    """Return the trimmed graph in networkx's node-link form, or ``{}`` when the dataset has none."""
    entities = list(GraphEntity.objects.filter(dataset_id=dataset_id).order_by("-pagerank", "key")[:MAX_NODES])
    if not entities:
        return {}
    names = {entity.key: entity.name for entity in entities}
    relations = (
        GraphRelation.objects.filter(dataset_id=dataset_id, source_key__in=list(names), target_key__in=list(names))
        .exclude(source_key=F("target_key"))
        .order_by("-weight", "source_key", "target_key")[:MAX_EDGES]
    )
    document_ids = sorted({document_id for entity in entities for document_id in entity.document_ids})
    return {
        "directed": False,
        "multigraph": False,
        "graph": {"source_id": document_ids},
        "nodes": [
            {
                "id": entity.name,
                "entity_name": entity.name,
                "entity_type": entity.entity_type,
                "description": entity.description,
                "pagerank": entity.pagerank,
                "rank": entity.rank,
                "source_id": entity.document_ids,
            }
            for entity in entities
        ],
        "edges": [
            {
                "source": names[relation.source_key],
                "target": names[relation.target_key],
                "src_id": names[relation.source_key],
                "tgt_id": names[relation.target_key],
                "description": relation.description,
                "keywords": relation.keywords,
                "weight": relation.weight,
                "source_id": relation.document_ids,
            }
            for relation in relations
        ],
    }


def mind_map(dataset_id: str, title: str) -> dict:
    """Return a mind map of the graph: entity types, their main entities and each one's strongest links.

    Built from the stored graph without a chat request, so it always matches the graph.
    """
    entities = list(GraphEntity.objects.filter(dataset_id=dataset_id).order_by("-pagerank", "key")[:MAX_NODES])
    if not entities:
        return {}
    names = {entity.key: entity.name for entity in entities}
    neighbours: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for relation in GraphRelation.objects.filter(dataset_id=dataset_id, source_key__in=list(names), target_key__in=list(names)):
        neighbours[relation.source_key].append((relation.weight, names[relation.target_key]))
        neighbours[relation.target_key].append((relation.weight, names[relation.source_key]))

    by_type: dict[str, list[GraphEntity]] = defaultdict(list)
    for entity in entities:
        by_type[entity.entity_type or "unknown"].append(entity)
    ordered_types = sorted(by_type, key=lambda kind: (-sum(e.pagerank for e in by_type[kind]), kind))

    children = []
    for kind in ordered_types:
        branch = []
        for entity in by_type[kind][:MIND_MAP_ENTITIES_PER_TYPE]:
            linked = sorted(neighbours.get(entity.key, []), key=lambda item: (-item[0], item[1]))
            branch.append(
                {
                    "id": entity.name,
                    "children": [{"id": name, "children": []} for _, name in linked[:MIND_MAP_RELATIONS_PER_ENTITY]],
                }
            )
        children.append({"id": kind, "children": branch})
    return {"id": title, "children": children}
