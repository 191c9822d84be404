"""Rerank clients: HTTP services with a Jina/Cohere-style ``POST {base_url}/rerank`` API.

The request is ``{"model", "query", "documents": [...], "top_n"}`` and the response lists
``{"index", "relevance_score"}`` per document, the format of Jina AI, Cohere (v2), vLLM and
Xinference. No cross-encoder ships inside this server, so reranking always goes to such a service.
"""

import logging
import time

import requests

from knowledgebases.choices import ProviderKind

logger = logging.getLogger(__name__)

# Seconds to wait for one rerank response. A hosted reranker scores 64 passages in well under a
# second; a CPU-hosted one can take several, and a request blocks a retrieval call, so 30 s is the cap.
RERANK_TIMEOUT_SECONDS = 30
# Attempts for a 429 or 5xx response. Retrieval is interactive, so only one retry after a short pause.
RERANK_ATTEMPTS = 2
RERANK_BACKOFF_SECONDS = 0.5


class RerankError(Exception):
    """The rerank service could not score the passages."""


class HttpReranker:
    """Scores passages against a query with a remote rerank model."""

    def __init__(self, *, name: str, base_url: str, api_key: str = ""):
        if not base_url:
            raise RerankError(f"Rerank model {name} has no base_url; set one on its provider instance.")
        self.name = name
        self.url = base_url.rstrip("/") + "/rerank"
        self._api_key = api_key

    def scores(self, query: str, passages: list[str]) -> list[float]:
        """Return one relevance score per passage, in the passages' order."""
        if not passages:
            return []
        body = {"model": self.name, "query": query, "documents": passages, "top_n": len(passages)}
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        failure = None
        for attempt in range(1, RERANK_ATTEMPTS + 1):
            try:
                response = requests.post(self.url, json=body, headers=headers, timeout=RERANK_TIMEOUT_SECONDS)
            except requests.RequestException as error:
                failure = RerankError(f"Rerank request to {self.url} failed: {error}")
            else:
                if response.status_code == 200:
                    return self._parse(response, len(passages))
                failure = RerankError(f"Rerank service {self.url} returned HTTP {response.status_code}: {response.text[:300]}")
                if response.status_code != 429 and response.status_code < 500:
                    raise failure
            if attempt < RERANK_ATTEMPTS:
                logger.warning("%s; retrying in %.1f s", failure, RERANK_BACKOFF_SECONDS)
                time.sleep(RERANK_BACKOFF_SECONDS)
        raise failure

    def _parse(self, response, expected: int) -> list[float]:
        scores = [0.0] * expected
        try:
            for item in response.json()["results"]:
                index = int(item["index"])
                if not 0 <= index < expected:
                    raise ValueError(f"index {index} out of range")
                scores[index] = float(item["relevance_score"])
        except (ValueError, KeyError, TypeError) as error:
            raise RerankError(f"Rerank service {self.url} returned an invalid body: {error!r}") from None
        return scores


def reranker_for(tenant_model) -> HttpReranker:
    """Build the client of a registered rerank model (a ``TenantModel`` row)."""
    instance = tenant_model.instance
    kind = instance.provider.kind
    if kind == ProviderKind.OPENAI_COMPATIBLE:
        return HttpReranker(name=tenant_model.name, base_url=instance.base_url, api_key=instance.api_key)
    raise RerankError(f"Provider kind {kind} of model {tenant_model.name} cannot rerank.")
