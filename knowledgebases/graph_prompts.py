"""Prompts of the knowledge-graph job. Every prompt asks for one JSON object and names its keys."""

import json

EXTRACTION_SYSTEM = (
    "You build knowledge graphs from documents. You answer with one JSON object and nothing else: "
    "no Markdown, no comments, no text before or after it."
)

_ENTITY_FORMAT = (
    '"entities": a list of objects with "name" (as written in the text), "type" (one of: {types}) '
    'and "description" (what the text states about the entity)'
)
_RELATION_FORMAT = (
    '"relations": a list of objects with "source" and "target" (names from "entities"), '
    '"description" (how the text connects them), "keywords" (a list of short phrases for the kind '
    'of connection) and "weight" (1 to 10, how strong and explicit the connection is in the text)'
)

# ``light``: one pass that keeps descriptions short, for large corpora and cheap models.
LIGHT_EXTRACTION = (
    "Read the text below and list the named entities of these types: {types}. Skip generic nouns, "
    "pronouns and dates unless a type asks for them. Then list the relations the text states between "
    "those entities.\n"
    "Answer with a JSON object with two keys:\n"
    f"- {_ENTITY_FORMAT}, in one sentence;\n"
    f"- {_RELATION_FORMAT}, in one sentence.\n"
    'If the text names no such entity, answer {{"entities": [], "relations": []}}.\n\n'
    "Text:\n{text}"
)

# ``general``: a thorough pass with fuller descriptions, followed by a second request for missed items.
GENERAL_EXTRACTION = (
    "Study the text below as an analyst building a knowledge graph. Find every entity of these types: "
    "{types}, including ones mentioned only once or only by a role, and every relation between them "
    "that the text states or clearly implies: membership, ownership, location, cause, time order, "
    "participation, authorship.\n"
    "Answer with a JSON object with two keys:\n"
    f"- {_ENTITY_FORMAT}, in two or three sentences that keep the text's facts, numbers and dates;\n"
    f"- {_RELATION_FORMAT}, in one or two sentences.\n"
    'If the text names no such entity, answer {{"entities": [], "relations": []}}.\n\n'
    "Text:\n{text}"
)

GENERAL_FOLLOW_UP = (
    "Check the text again for entities and relations that your answer missed. Answer with a JSON "
    'object of the same form that lists only the missing ones, or {"entities": [], "relations": []} '
    "if nothing was missed."
)

# ``ner``: entities only, for datasets that want a name index without relations.
NER_EXTRACTION = (
    "List the named entities of these types in the text below: {types}.\n"
    f"Answer with a JSON object with one key, {_ENTITY_FORMAT}, in one sentence.\n"
    'If the text names no such entity, answer {{"entities": []}}.\n\n'
    "Text:\n{text}"
)

EXTRACTION_PROMPTS = {"light": LIGHT_EXTRACTION, "general": GENERAL_EXTRACTION, "ner": NER_EXTRACTION}

SUMMARY_SYSTEM = "You merge notes about one subject into a single faithful description. You never invent facts."

SUMMARY = (
    "The notes below describe {subject}. They come from different passages and may repeat or "
    "complement each other. Write one description in plain prose, at most {words} words, that keeps "
    "every distinct fact, number and date and resolves repetitions. If notes contradict each other, "
    "state both versions.\n"
    'Answer with a JSON object: {{"description": "..."}}.\n\n'
    "Notes:\n{notes}"
)

RESOLUTION_SYSTEM = "You decide whether two names refer to the same real-world entity. You answer with JSON only."

RESOLUTION = (
    "Each numbered line below gives two entity names of the same type, with a short description of each. "
    "Decide for every line whether both names refer to the same entity (abbreviation, alternative "
    "spelling, short form, translation) and not merely to related ones.\n"
    'Answer with a JSON object: {{"same": [the numbers of the lines whose names refer to the same entity]}}.\n\n'
    "{pairs}"
)

COMMUNITY_SYSTEM = "You write short analytical reports about groups of related entities. You answer with JSON only."

COMMUNITY_REPORT = (
    "The entities and relations below form one community of a knowledge graph. Write a report about "
    "the community for a reader who will use it to answer questions.\n"
    "Answer with a JSON object with these keys:\n"
    '- "title": a short name of the community that names its key entities;\n'
    '- "summary": a paragraph on how the community is structured and why it matters;\n'
    '- "rating": a number from 0 to 10 for how important the community is within the documents;\n'
    '- "rating_explanation": one sentence that justifies the rating;\n'
    '- "findings": a list of 1 to 5 objects with "summary" (one line) and "explanation" (a paragraph '
    "grounded in the entities and relations below).\n\n"
    "Entities (name, type, description):\n{entities}\n\n"
    "Relations (source, target, description):\n{relations}"
)


def extraction_messages(method: str, text: str, entity_types: list[str]) -> list[dict]:
    prompt = EXTRACTION_PROMPTS[method].format(types=", ".join(entity_types), text=text)
    return [{"role": "system", "content": EXTRACTION_SYSTEM}, {"role": "user", "content": prompt}]


def follow_up_messages(first: list[dict], answer: str) -> list[dict]:
    return [*first, {"role": "assistant", "content": answer}, {"role": "user", "content": GENERAL_FOLLOW_UP}]


def summary_messages(subject: str, notes: list[str], words: int) -> list[dict]:
    prompt = SUMMARY.format(subject=subject, words=words, notes="\n".join(f"- {note}" for note in notes))
    return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": prompt}]


def resolution_pair_line(number: int, first: tuple[str, str], second: tuple[str, str], entity_type: str) -> str:
    """Format one candidate pair; ``first`` and ``second`` are (name, description) tuples."""
    return (
        f"{number}. [{entity_type}] {json.dumps(first[0], ensure_ascii=False)} ({first[1]}) | "
        f"{json.dumps(second[0], ensure_ascii=False)} ({second[1]})"
    )


def resolution_messages(lines: list[str]) -> list[dict]:
    prompt = RESOLUTION.format(pairs="\n".join(lines))
    return [{"role": "system", "content": RESOLUTION_SYSTEM}, {"role": "user", "content": prompt}]


def community_messages(entity_lines: list[str], relation_lines: list[str]) -> list[dict]:
    prompt = COMMUNITY_REPORT.format(entities="\n".join(entity_lines), relations="\n".join(relation_lines) or "(none)")
    return [{"role": "system", "content": COMMUNITY_SYSTEM}, {"role": "user", "content": prompt}]
