"""Embedding clients: the built-in local model and an OpenAI-compatible service."""

import math

import pytest

from knowledgebases.embeddings import (
    LOCAL_MODELS,
    EmbeddingError,
    LocalEmbedder,
    OpenAICompatibleEmbedder,
    TransientEmbeddingError,
)
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):
    monkeypatch.setattr("knowledgebases.embeddings.REMOTE_BACKOFF_SECONDS", 0.01)


def cosine(left, right):
    return sum(a * b for a, b in zip(left, right))


def test_local_model_vectors():
    embedder = LocalEmbedder(LOCAL_MODELS["all-MiniLM-L6-v2"])

    vectors = embedder.embed(
        ["The cat sat on the mat.", "A kitten is sitting on a rug.", "Quarterly revenue grew by 12 percent."]
    )

    assert len(vectors) == 3
    assert all(len(vector) == 384 for vector in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-4) for vector in vectors)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2


def test_local_model_empty_input():
    assert LocalEmbedder(LOCAL_MODELS["all-MiniLM-L6-v2"]).embed([]) == []


def test_remote_embeds_in_order():
    with FakeOpenAIServer(dimension=4) as server:
        embedder = OpenAICompatibleEmbedder(name="emb-1", base_url=server.base_url, api_key="sk-test")

        vectors = embedder.embed(["alpha", "beta", "alpha"])

        assert len(vectors) == 3
        assert vectors[0] == vectors[2]
        assert vectors[0] != vectors[1]
        assert embedder.dimension == 4
        request = server.requests[0]
        assert request["path"] == "/v1/embeddings"
        assert request["body"] == {"model": "emb-1", "input": ["alpha", "beta", "alpha"]}
        assert request["headers"]["Authorization"] == "Bearer sk-test"


def test_remote_batches_large_input():
    with FakeOpenAIServer(dimension=2) as server:
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="")

        vectors = embedder.embed([f"text {i}" for i in range(150)])

        assert len(vectors) == 150
        assert [len(r["body"]["input"]) for r in server.requests] == [64, 64, 22]


def test_remote_retries_rate_limit():
    with FakeOpenAIServer(dimension=2) as server:
        server.script.extend([(429, {"error": "slow down"}), (503, {"error": "busy"})])
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="")

        vectors = embedder.embed(["one"])

        assert len(vectors) == 1
        assert len(server.requests) == 3


def test_remote_gives_up_after_attempts():
    with FakeOpenAIServer() as server:
        server.script.extend([(500, {"error": "down"})] * 3)
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="")

        with pytest.raises(TransientEmbeddingError, match="HTTP 500"):
            embedder.embed(["one"])
        assert len(server.requests) == 3


def test_remote_client_error_not_retried():
    with FakeOpenAIServer() as server:
        server.script.append((401, {"error": "invalid api key"}))
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="bad")

        with pytest.raises(EmbeddingError, match="HTTP 401") as caught:
            embedder.embed(["one"])
        assert not isinstance(caught.value, TransientEmbeddingError)
        assert len(server.requests) == 1


def test_remote_wrong_vector_count():
    with FakeOpenAIServer() as server:
        server.script.append((200, {"data": [{"index": 0, "embedding": [0.1, 0.2]}]}))
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="")

        with pytest.raises(EmbeddingError, match="1 vectors for 2 inputs"):
            embedder.embed(["one", "two"])


def test_remote_invalid_body():
    with FakeOpenAIServer() as server:
        server.script.append((200, b"not json"))
        embedder = OpenAICompatibleEmbedder(name="emb", base_url=server.base_url, api_key="")

        with pytest.raises(EmbeddingError, match="invalid body"):
            embedder.embed(["one"])


def test_remote_unreachable_is_transient():
    embedder = OpenAICompatibleEmbedder(name="emb", base_url="http://127.0.0.1:1/v1", api_key="")

    with pytest.raises(TransientEmbeddingError, match="failed"):
        embedder.embed(["one"])


def test_remote_needs_base_url():
    with pytest.raises(EmbeddingError, match="base_url"):
        OpenAICompatibleEmbedder(name="emb", base_url="", api_key="")


def test_web_process_embeds_with_one_thread():
    """The WSGI module limits PyTorch before it loads, so the web process does not import it at start."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    script = (
        "import sys, ragflow_site.wsgi; loaded = 'torch' in sys.modules; import torch; "
        "print(loaded, torch.get_num_threads())"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["False", "1"]


def test_limit_cpu_threads_resizes_a_loaded_torch():
    import torch

    from knowledgebases.embeddings import limit_cpu_threads

    before = torch.get_num_threads()
    try:
        limit_cpu_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
