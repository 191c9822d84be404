"""Entity resolution: find names that refer to one entity and ask the chat model about likely pairs.

Comparing every pair of entities costs n² model calls, so pairs are pre-filtered by name. Only
entities of the same type whose names share a word or an acronym and look alike are sent. They go
in batches that fit the model's prompt budget.
"""

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from knowledgebases.chat import OpenAICompatibleChat, estimate_tokens
from knowledgebases.graph_prompts import resolution_messages, resolution_pair_line
from knowledgebases.llm_calls import RequestFailed, RetryPolicy, ask_json
from knowledgebases.llm_json import AnswerFormatError

logger = logging.getLogger(__name__)

# Name similarity (difflib ratio of the case-folded names) from which a pair is sent to the model.
# Two spellings of one name such as "acme corp" and "acme corporation" score 0.72.
MIN_NAME_SIMILARITY = 0.6
# Most pairs asked about in one run, which bounds the run's cost on large graphs.
MAX_CANDIDATE_PAIRS = 2000
# Most pairs in one request, so a failed request loses few decisions.
MAX_PAIRS_PER_REQUEST = 40
# Characters of each entity's description shown beside its name; enough to tell homonyms apart.
DESCRIPTION_PREVIEW_CHARS = 120
# Answer length of a resolution request: a list of line numbers.
RESOLUTION_ANSWER_TOKENS = 512

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    first: str
    second: str
    entity_type: str


def _acronym(words: list[str]) -> str:
    return "".join(word[0] for word in words) if len(words) > 1 else ""


def _blocking_keys(key: str) -> set[str]:
    words = _WORD.findall(key)
    keys = {word for word in words if len(word) >= 3}
    acronym = _acronym(words)
    if acronym:
        keys.add(acronym)
    if len(words) == 1:
        # A one-word name may be the acronym of a longer one.
        keys.add(words[0])
    return keys


def _looks_alike(first: str, second: str) -> bool:
    if _acronym(_WORD.findall(first)) == second or _acronym(_WORD.findall(second)) == first:
        return True
    if first in second or second in first:
        return True
    return SequenceMatcher(None, first, second).ratio() >= MIN_NAME_SIMILARITY


def candidate_pairs(entities: dict, changed_keys: set[str]) -> list[Candidate]:
    """Return pairs of same-type entities with similar names where at least one entity is in ``changed_keys``.

    ``entities`` maps keys to objects with ``entity_type``. Pairs of unchanged entities were
    judged in an earlier run and are not asked about again.
    """
    blocks: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, entity in entities.items():
        for block in _blocking_keys(key):
            blocks[(entity.entity_type, block)].append(key)

    seen: set[tuple[str, str]] = set()
    pairs: list[Candidate] = []
    for (entity_type, _), keys in sorted(blocks.items()):
        for index, first in enumerate(keys):
            for second in keys[index + 1 :]:
                pair = tuple(sorted((first, second)))
                if pair in seen or (first not in changed_keys and second not in changed_keys):
                    continue
                seen.add(pair)
                if _looks_alike(*pair):
                    pairs.append(Candidate(first=pair[0], second=pair[1], entity_type=entity_type))
                    if len(pairs) >= MAX_CANDIDATE_PAIRS:
                        logger.warning("Entity resolution stopped at %d candidate pairs", MAX_CANDIDATE_PAIRS)
                        return pairs
    return pairs


def batch_pairs(lines: list[str], prompt_budget: int) -> list[list[int]]:
    """Split line indexes into batches whose prompt stays within ``prompt_budget`` tokens."""
    overhead = estimate_tokens("\n".join(message["content"] for message in resolution_messages([])))
    batches: list[list[int]] = []
    current: list[int] = []
    used = overhead
    for index, line in enumerate(lines):
        size = estimate_tokens(line) + 1
        if current and (used + size > prompt_budget or len(current) >= MAX_PAIRS_PER_REQUEST):
            batches.append(current)
            current, used = [], overhead
        if overhead + size > prompt_budget:
            logger.warning("Entity resolution pair %d alone exceeds the prompt budget; skipping it", index)
            continue
        current.append(index)
        used += size
    if current:
        batches.append(current)
    return batches


@dataclass
class ResolutionOutcome:
    same: list[Candidate]
    asked: int
    failed_batches: list[str]


def resolve(
    chat: OpenAICompatibleChat,
    entities: dict,
    changed_keys: set[str],
    *,
    policy: RetryPolicy,
    cancel,
    deadline: float | None,
) -> ResolutionOutcome:
    """Ask the chat model which candidate pairs name the same entity."""
    pairs = candidate_pairs(entities, changed_keys)
    outcome = ResolutionOutcome(same=[], asked=len(pairs), failed_batches=[])
    if not pairs:
        return outcome

    lines = []
    for number, pair in enumerate(pairs, start=1):
        first, second = entities[pair.first], entities[pair.second]
        lines.append(
            resolution_pair_line(
                number,
                (first.name, first.joined_notes[:DESCRIPTION_PREVIEW_CHARS]),
                (second.name, second.joined_notes[:DESCRIPTION_PREVIEW_CHARS]),
                pair.entity_type,
            )
        )
    for batch_number, batch in enumerate(batch_pairs(lines, chat.prompt_budget(RESOLUTION_ANSWER_TOKENS)), start=1):
        if deadline is not None and time.monotonic() > deadline:
            outcome.failed_batches.append(f"batch {batch_number}: resolution timed out")
            continue
        numbers = {index + 1 for index in batch}

        def read(value, numbers=numbers):
            same = value.get("same")
            if not isinstance(same, list):
                raise AnswerFormatError('the answer has no "same" list')
            chosen = []
            for item in same:
                try:
                    number = int(item)
                except (TypeError, ValueError):
                    continue
                if number in numbers:
                    chosen.append(number)
            return chosen

        try:
            same, _ = ask_json(
                chat,
                resolution_messages([lines[index] for index in batch]),
                max_tokens=RESOLUTION_ANSWER_TOKENS,
                policy=policy,
                cancel=cancel,
                label=f"Entity resolution batch {batch_number}",
                read=read,
            )
        except RequestFailed as failure:
            outcome.failed_batches.append(f"batch {batch_number}: {failure.reason}")
            continue
        outcome.same.extend(pairs[number - 1] for number in same)
    return outcome
