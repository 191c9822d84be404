"""One chat request of an index job, retried as the dataset's settings say and then given up.

GraphRAG and RAPTOR send many independent requests (one per batch of chunks, per cluster, per
community). A request that keeps failing must not end the job, so ``ask_json`` and ``ask_text``
raise ``RequestFailed`` with a reason that the job counts and names in its trace.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from knowledgebases.chat import ChatBudgetError, ChatError, OpenAICompatibleChat
from knowledgebases.llm_json import AnswerFormatError, parse_json_answer, strip_reasoning

logger = logging.getLogger(__name__)


class RequestFailed(Exception):
    """A request failed on every attempt; ``reason`` is the error of the last attempt."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is tried: ``attempts`` in total, exponential backoff."""

    attempts: int = 3
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.backoff_seconds * 2 ** (attempt - 1), self.backoff_max_seconds)


def _try(
    chat: OpenAICompatibleChat,
    messages: list[dict],
    *,
    max_tokens: int,
    policy: RetryPolicy,
    cancel: Callable[[], None],
    read: Callable[[str], object],
    label: str,
):
    reason = "not attempted"
    for attempt in range(1, policy.attempts + 1):
        cancel()
        try:
            answer = chat.complete(messages, max_tokens=max_tokens, cancel=cancel)
            return read(answer.text), answer.text
        except ChatBudgetError as error:
            # The same prompt never fits on a second attempt.
            raise RequestFailed(str(error)) from None
        except (ChatError, AnswerFormatError) as error:
            reason = f"{type(error).__name__}: {error}"
        if attempt < policy.attempts:
            delay = policy.delay(attempt)
            logger.warning("%s failed (%s); retrying in %.1f s (attempt %d of %d)", label, reason, delay, attempt, policy.attempts)
            time.sleep(delay)
    logger.warning("%s failed after %d attempts: %s", label, policy.attempts, reason)
    raise RequestFailed(reason)


def ask_json(
    chat: OpenAICompatibleChat,
    messages: list[dict],
    *,
    max_tokens: int,
    policy: RetryPolicy,
    cancel: Callable[[], None],
    label: str,
    read: Callable[[object], object] | None = None,
    expect: type = dict,
) -> tuple[object, str]:
    """Return the answer's JSON value (passed through ``read``, which may raise AnswerFormatError) and its text."""

    def parse(text: str):
        value = parse_json_answer(text, expect=expect)
        return read(value) if read is not None else value

    return _try(chat, messages, max_tokens=max_tokens, policy=policy, cancel=cancel, read=parse, label=label)


def ask_text(
    chat: OpenAICompatibleChat,
    messages: list[dict],
    *,
    max_tokens: int,
    policy: RetryPolicy,
    cancel: Callable[[], None],
    label: str,
) -> str:
    """Return the answer without reasoning blocks; an empty answer counts as a failed attempt."""

    def read(text: str) -> str:
        cleaned = strip_reasoning(text)
        if not cleaned:
            raise AnswerFormatError("the answer is empty")
        return cleaned

    value, _ = _try(chat, messages, max_tokens=max_tokens, policy=policy, cancel=cancel, read=read, label=label)
    return value


def take_within_budget(texts: list[str], used: int, budget: int, *, separator_tokens: int = 0) -> tuple[list[str], int]:
    """Return the leading ``texts`` that fit in ``budget`` tokens after ``used``, and the new total."""
    from knowledgebases.chat import estimate_tokens

    kept = []
    for text in texts:
        size = estimate_tokens(text) + separator_tokens
        if used + size > budget:
            break
        kept.append(text)
        used += size
    return kept, used
