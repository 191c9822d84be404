"""Reading JSON out of chat-model answers: reasoning blocks, code fences, prose and truncation.

Models wrap JSON in Markdown fences, put a ``<think>`` block before it, add a sentence around it,
or stop mid-object when they reach ``max_tokens``. ``parse_json_answer`` removes the wrapping and
repairs a cut-off tail with json-repair; whatever still does not parse is rejected with
``AnswerFormatError`` so the caller can retry that request.
"""

import json
import re

import json_repair

# Reasoning models (DeepSeek-R1, QwQ, Qwen3) emit their reasoning between these tags before the
# answer; an unclosed block means the answer never started.
_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(```|\Z)", re.DOTALL)


class AnswerFormatError(ValueError):
    """A chat answer holds no JSON value of the expected shape, even after repair."""


def strip_reasoning(text: str) -> str:
    """Remove ``<think>`` style blocks, including one left open at the end of the answer."""
    return _REASONING_BLOCK.sub("", text or "").strip()


def _candidate(text: str) -> str:
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
    return text[min(starts) :].strip() if starts else text.strip()


def parse_json_answer(text: str, *, expect: type = dict):
    """Return the JSON value of an answer; raise AnswerFormatError when none of type ``expect`` is found."""
    body = _candidate(strip_reasoning(text))
    if not body:
        raise AnswerFormatError("the answer is empty")
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        value = json_repair.loads(body)
    if not isinstance(value, expect) or not value:
        raise AnswerFormatError(f"expected a non-empty JSON {expect.__name__}, got {type(value).__name__}: {body[:80]!r}")
    return value
