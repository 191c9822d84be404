"""Chat-completion clients for OpenAI-compatible services (OpenAI, DeepSeek, vLLM, Ollama, LM Studio).

Jobs call ``chat_model_for(tenant_model)`` and then ``complete(messages, max_tokens=...)``. Every
request is checked against the model's context window before it is sent, retried with exponential
backoff on HTTP 429, 5xx, timeouts and connection errors, and rejected at once on other 4xx answers.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from knowledgebases.choices import ModelType, ProviderKind

logger = logging.getLogger(__name__)

# Seconds to open a connection; a reachable service accepts within a second, so a longer wait
# means it is down.
CONNECT_TIMEOUT_SECONDS = 10
# Seconds to wait for a whole answer. An extraction answer of 2,000 tokens at 20 tokens/s (a small
# model on a CPU) takes 100 s, so 180 s leaves room without hanging a job on a dead socket.
READ_TIMEOUT_SECONDS = 180
# Attempts per request for transient failures; after the last one the caller decides whether the
# failure is fatal (GraphRAG and RAPTOR retry a piece, then skip it).
DEFAULT_ATTEMPTS = 3
# First backoff delay in seconds, doubled on each attempt up to the maximum. Rate limits of hosted
# APIs are per minute, so a minute is the longest useful wait.
DEFAULT_BACKOFF_SECONDS = 1.0
DEFAULT_BACKOFF_MAX_SECONDS = 60.0
# Token estimates come from the built-in model's WordPiece tokenizer, which can count up to a
# fifth fewer tokens than the BPE tokenizers of chat models on English text; the margin covers it.
TOKEN_ESTIMATE_MARGIN = 1.2
# Tokens each message adds for its role and separators in the chat template.
TOKENS_PER_MESSAGE = 4


class ChatError(Exception):
    """A chat request failed for a reason that retrying will not fix (bad key, bad model, bad request)."""


class NoChatModelError(ChatError):
    """Neither the dataset nor its tenant names a chat model."""


class TransientChatError(ChatError):
    """A chat request failed for a reason that may pass: rate limit, server error, timeout, network."""


class ChatBudgetError(ChatError):
    """The prompt and the requested answer length do not fit in the model's context window."""


class ChatCancelled(Exception):
    """The caller's cancel check fired while the client waited to retry."""


@dataclass(frozen=True)
class ChatAnswer:
    """The text of the first choice with the service's finish reason and token usage."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


def estimate_tokens(text: str) -> int:
    """Estimate the chat model's token count of ``text`` (an upper estimate, see the margin)."""
    from documents.chunking.tokens import default_token_counter

    return int(default_token_counter().count(text) * TOKEN_ESTIMATE_MARGIN) + 1


def estimate_message_tokens(messages: list[dict]) -> int:
    return sum(estimate_tokens(message.get("content") or "") + TOKENS_PER_MESSAGE for message in messages)


class OpenAICompatibleChat:
    """Calls ``POST {base_url}/chat/completions`` of an OpenAI-compatible service.

    ``context_tokens`` is the model's context window: prompt plus answer must fit in it. ``sleep``
    exists so that tests can observe the backoff without waiting.
    """

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str = "",
        context_tokens: int = 8192,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
        backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS,
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not base_url:
            raise ChatError(f"Chat model {name} has no base_url; set one on its provider instance.")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.context_tokens = context_tokens
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.read_timeout_seconds = read_timeout_seconds
        self._api_key = api_key
        self._sleep = sleep
        self._session = requests.Session()

    def prompt_budget(self, max_tokens: int) -> int:
        """Return how many prompt tokens fit beside an answer of ``max_tokens``."""
        return max(0, self.context_tokens - max_tokens)

    def complete(
        self,
        messages: list[dict],
        *,
        max_tokens: int,
        temperature: float = 0.1,
        cancel: Callable[[], None] | None = None,
    ) -> ChatAnswer:
        """Send one chat request and return the answer; raises ChatError or TransientChatError.

        ``cancel`` is called before each attempt and may raise to abandon the request.
        """
        prompt_tokens = estimate_message_tokens(messages)
        if prompt_tokens > self.prompt_budget(max_tokens):
            raise ChatBudgetError(
                f"Prompt of about {prompt_tokens} tokens plus an answer of {max_tokens} tokens exceeds the "
                f"context window of {self.context_tokens} tokens of model {self.name}; send less text or "
                f"raise the model's max_tokens."
            )
        body = {"model": self.name, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        url = f"{self.base_url}/chat/completions"
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

        failure: TransientChatError | None = None
        for attempt in range(1, self.attempts + 1):
            if cancel is not None:
                cancel()
            retry_after = None
            try:
                response = self._session.post(
                    url, json=body, headers=headers, timeout=(CONNECT_TIMEOUT_SECONDS, self.read_timeout_seconds)
                )
            except requests.Timeout:
                failure = TransientChatError(f"Chat request to {url} timed out after {self.read_timeout_seconds} s")
            except requests.RequestException as error:
                failure = TransientChatError(f"Chat request to {url} failed: {error}")
            else:
                if response.status_code == 200:
                    return self._parse(response)
                message = f"Chat service {url} returned HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code != 429 and response.status_code < 500:
                    raise ChatError(message)
                failure = TransientChatError(message)
                retry_after = _retry_after_seconds(response)
            if attempt < self.attempts:
                delay = self._backoff(attempt, retry_after)
                logger.warning(
                    "%s; retrying in %.1f s (attempt %d of %d, model %s)", failure, delay, attempt, self.attempts, self.name
                )
                self._sleep(delay)
        logger.warning("Chat request to model %s failed after %d attempts: %s", self.name, self.attempts, failure)
        raise failure

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max_seconds)
        delay = self.backoff_seconds * 2 ** (attempt - 1)
        # Up to 10% jitter keeps parallel workers from retrying in lockstep.
        return min(delay * (1 + random.random() / 10), self.backoff_max_seconds)

    def _parse(self, response) -> ChatAnswer:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = choice["message"].get("content") or ""
            usage = payload.get("usage") or {}
            return ChatAnswer(
                text=text,
                finish_reason=choice.get("finish_reason") or "",
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise ChatError(f"Chat service {self.base_url} returned an invalid body: {error!r}") from None


def _retry_after_seconds(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        # An HTTP date instead of seconds: fall back to the exponential backoff.
        return None


def chat_model_for(tenant_model, **options) -> OpenAICompatibleChat:
    """Build the client for a registered chat model (a ``TenantModel`` row); ``options`` tune retries."""
    if tenant_model.model_type != ModelType.CHAT:
        raise ChatError(f"Model {tenant_model.name} is a {tenant_model.model_type} model, not a chat model.")
    instance = tenant_model.instance
    kind = instance.provider.kind
    if kind != ProviderKind.OPENAI_COMPATIBLE:
        raise ChatError(f"Provider kind {kind} of model {tenant_model.name} cannot answer chat requests.")
    return OpenAICompatibleChat(
        name=tenant_model.name,
        base_url=instance.base_url,
        api_key=instance.api_key,
        context_tokens=tenant_model.max_tokens,
        **options,
    )


def chat_model_of_dataset(dataset, **options) -> OpenAICompatibleChat:
    """Build the chat client a dataset's index jobs use: its ``llm_id``, else the tenant's default."""
    from accounts.models import Tenant
    from knowledgebases.model_registry import resolve_model

    reference = (dataset.parser_config or {}).get("llm_id") or ""
    if not reference:
        reference = Tenant.objects.filter(pk=dataset.tenant_id).values_list("llm_id", flat=True).first() or ""
    if not reference:
        raise NoChatModelError(
            f"Dataset {dataset.pk} has no chat model; set the tenant's default chat model with PATCH /api/v1/models/default."
        )
    return chat_model_for(resolve_model(dataset.tenant_id, reference, ModelType.CHAT), **options)
