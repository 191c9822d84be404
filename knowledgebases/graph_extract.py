"""Entity and relation extraction: batching chunks into pieces and reading the model's answers."""

import re
import unicodedata
from dataclasses import dataclass, field

from knowledgebases.llm_json import AnswerFormatError

# Separates the two entity keys of a relation key; a control character never occurs in names.
RELATION_KEY_SEPARATOR = "\x1f"
# Longest entity name kept, in characters; longer "names" are sentences the model misfiled.
MAX_NAME_LENGTH = 200
# Relation weights are asked for on a 1..10 scale; anything else is clamped into it.
MIN_WEIGHT, MAX_WEIGHT = 1.0, 10.0
# Type given to entities whose type is not one of the dataset's ``entity_types``.
UNKNOWN_TYPE = "unknown"

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = "\"'`“”‘’«»()[]{}<>.,;:!?*#_ "


@dataclass
class ChunkText:
    id: str
    document_id: str
    content: str
    tokens: int


@dataclass
class Piece:
    """Consecutive chunks of one document sent to the model in one extraction request."""

    document_id: str
    number: int
    chunk_ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    tokens: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)


@dataclass
class Extracted:
    """One entity or relation read from one piece."""

    kind: str
    key: str
    name: str
    target: str = ""
    entity_type: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    weight: float = 1.0


def display_name(name: str) -> str:
    """Return ``name`` with collapsed whitespace and without surrounding quotes or punctuation."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip(_EDGE_PUNCTUATION)


def entity_key(name: str) -> str:
    """Return the key that merges spellings of one name: NFKC, case-folded, collapsed whitespace."""
    return display_name(name).casefold()


def relation_key(first_key: str, second_key: str) -> str:
    low, high = sorted((first_key, second_key))
    return f"{low}{RELATION_KEY_SEPARATOR}{high}"


def make_pieces(chunks: list[ChunkText], max_tokens: int) -> list[Piece]:
    """Group consecutive chunks of each document into pieces of at most ``max_tokens`` tokens.

    A chunk larger than ``max_tokens`` is cut to fit, so that no request exceeds the budget.
    """
    from documents.chunking.tokens import default_token_counter

    pieces: list[Piece] = []
    current: Piece | None = None
    for chunk in chunks:
        texts = [chunk.content]
        tokens = chunk.tokens
        if tokens > max_tokens:
            texts = default_token_counter().split(chunk.content, max_tokens)
            tokens = max_tokens
        for text in texts:
            size = min(tokens, max_tokens)
            if current is None or current.document_id != chunk.document_id or current.tokens + size > max_tokens:
                current = Piece(document_id=chunk.document_id, number=len(pieces) + 1)
                pieces.append(current)
            if chunk.id not in current.chunk_ids:
                current.chunk_ids.append(chunk.id)
            current.texts.append(text)
            current.tokens += size
    return pieces


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _keywords(value) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,;]", value)
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(item.strip() for item in value if isinstance(item, str) and item.strip()))


def _weight(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return MIN_WEIGHT
    return max(MIN_WEIGHT, min(MAX_WEIGHT, number))


def read_extraction(value: dict, entity_types: list[str]) -> list[Extracted]:
    """Turn an extraction answer into entities and relations; raise AnswerFormatError when it has neither key.

    Items without a usable name are dropped, and so are entities with neither type nor description
    (cut off by ``max_tokens``) and relations whose ends are not entities of the same answer or that
    connect an entity to itself.
    """
    entities = value.get("entities")
    relations = value.get("relations", [])
    if not isinstance(entities, list) or not isinstance(relations, list):
        raise AnswerFormatError('the answer has no "entities" list')
    allowed = {entity_type.casefold(): entity_type for entity_type in entity_types}

    found: dict[str, Extracted] = {}
    for item in entities:
        if not isinstance(item, dict):
            continue
        name = display_name(_text(item.get("name")))
        if not name or len(name) > MAX_NAME_LENGTH:
            continue
        if "type" not in item and "description" not in item:
            # The tail of an answer cut off at max_tokens: the name itself may be incomplete.
            continue
        entity_type = allowed.get(_text(item.get("type")).casefold(), UNKNOWN_TYPE)
        key = entity_key(name)
        description = _text(item.get("description"))
        if key in found:
            # The same entity listed twice in one answer: keep both descriptions.
            previous = found[key]
            if description and description not in previous.description:
                previous.description = f"{previous.description}\n{description}".strip()
            continue
        found[key] = Extracted(kind="entity", key=key, name=name, entity_type=entity_type, description=description)

    extracted = list(found.values())
    for item in relations:
        if not isinstance(item, dict):
            continue
        source, target = display_name(_text(item.get("source"))), display_name(_text(item.get("target")))
        source_key, target_key = entity_key(source), entity_key(target)
        if source_key not in found or target_key not in found or source_key == target_key:
            continue
        extracted.append(
            Extracted(
                kind="relation",
                key=relation_key(source_key, target_key),
                name=found[source_key].name,
                target=found[target_key].name,
                description=_text(item.get("description")),
                keywords=_keywords(item.get("keywords")),
                weight=_weight(item.get("weight")),
            )
        )
    return extracted
