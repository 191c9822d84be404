"""Graph analytics of the merged graph: PageRank per entity, Louvain communities and their reports."""

import logging
import time
from dataclasses import dataclass, field

import networkx as nx

from knowledgebases.chat import OpenAICompatibleChat, estimate_tokens
from knowledgebases.graph_prompts import community_messages
from knowledgebases.llm_calls import RequestFailed, RetryPolicy, ask_json, take_within_budget
from knowledgebases.llm_json import AnswerFormatError

logger = logging.getLogger(__name__)

# Answer length of a community report: a title, a paragraph and up to five findings.
REPORT_ANSWER_TOKENS = 1500
# Most communities reported on per run, largest first; each costs one chat request.
MAX_COMMUNITIES = 100
# Characters of an entity or relation description listed in a report prompt; the full text is in
# the graph, the report needs the gist.
REPORT_DESCRIPTION_CHARS = 300
# Louvain's resolution parameter; 1.0 is the standard modularity, larger values give smaller communities.
LOUVAIN_RESOLUTION = 1.0


def build_graph(entities: dict, relations: dict) -> nx.Graph:
    """Return an undirected networkx graph of entity keys with relation weights."""
    graph = nx.Graph()
    graph.add_nodes_from(entities)
    for relation in relations.values():
        graph.add_edge(relation.source_key, relation.target_key, weight=max(relation.weight, 1e-6))
    return graph


def pagerank(graph: nx.Graph) -> dict[str, float]:
    if graph.number_of_nodes() == 0:
        return {}
    return nx.pagerank(graph, weight="weight")


def detect_communities(graph: nx.Graph, seed: int = 0) -> list[list[str]]:
    """Return communities of two or more entities, largest first, found with Louvain (networkx).

    NOTE: Leiden is not used because networkx only dispatches it to optional backends.
    """
    if graph.number_of_edges() == 0:
        return []
    communities = nx.community.louvain_communities(graph, weight="weight", resolution=LOUVAIN_RESOLUTION, seed=seed)
    groups = [sorted(members) for members in communities if len(members) >= 2]
    groups.sort(key=lambda members: (-len(members), members[0]))
    return groups


@dataclass
class Report:
    title: str
    summary: str
    rating: float
    findings: list[dict] = field(default_factory=list)
    rating_explanation: str = ""

    def render(self) -> str:
        lines = [f"# {self.title}", "", self.summary]
        if self.rating_explanation:
            lines += ["", f"Importance {self.rating:g}/10: {self.rating_explanation}"]
        for finding in self.findings:
            lines += ["", f"## {finding['summary']}", finding["explanation"]]
        return "\n".join(lines).strip()


def read_report(value: dict) -> Report:
    title = value.get("title")
    summary = value.get("summary")
    if not isinstance(title, str) or not title.strip() or not isinstance(summary, str):
        raise AnswerFormatError('the report has no "title" or "summary" text')
    try:
        rating = max(0.0, min(10.0, float(value.get("rating", 0))))
    except (TypeError, ValueError):
        rating = 0.0
    findings = []
    for item in value.get("findings") or []:
        if isinstance(item, dict) and isinstance(item.get("summary"), str):
            findings.append({"summary": item["summary"].strip(), "explanation": str(item.get("explanation") or "").strip()})
    explanation = value.get("rating_explanation")
    return Report(
        title=title.strip()[:500],
        summary=summary.strip(),
        rating=rating,
        findings=findings,
        rating_explanation=explanation.strip() if isinstance(explanation, str) else "",
    )


def _report_lines(members: list[str], entities: dict, descriptions: dict, relations: dict, budget: int):
    """Return entity and relation lines of a community, cut so the prompt fits ``budget`` tokens."""
    member_set = set(members)
    entity_lines = [
        f"- {entities[key].name} ({entities[key].entity_type}): {descriptions.get(key, '')[:REPORT_DESCRIPTION_CHARS]}"
        for key in members
    ]
    relation_lines = [
        f"- {entities[relation.source_key].name} | {entities[relation.target_key].name}: "
        f"{descriptions.get(relation.key, '')[:REPORT_DESCRIPTION_CHARS]}"
        for relation in sorted(relations.values(), key=lambda item: -item.weight)
        if relation.source_key in member_set and relation.target_key in member_set
    ]
    used = estimate_tokens("\n".join(message["content"] for message in community_messages([], [])))
    kept_entities, used = take_within_budget(entity_lines, used, budget)
    kept_relations, _ = take_within_budget(relation_lines, used, budget)
    return kept_entities, kept_relations


def write_report(
    chat: OpenAICompatibleChat,
    members: list[str],
    entities: dict,
    descriptions: dict,
    relations: dict,
    *,
    policy: RetryPolicy,
    cancel,
    label: str,
) -> Report:
    """Ask the chat model for a report on one community; raises RequestFailed."""
    entity_lines, relation_lines = _report_lines(
        members, entities, descriptions, relations, chat.prompt_budget(REPORT_ANSWER_TOKENS)
    )
    if not entity_lines:
        raise RequestFailed("the community's entity list alone exceeds the prompt budget")
    report, _ = ask_json(
        chat,
        community_messages(entity_lines, relation_lines),
        max_tokens=REPORT_ANSWER_TOKENS,
        policy=policy,
        cancel=cancel,
        label=label,
        read=read_report,
    )
    return report


def deadline_passed(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline
