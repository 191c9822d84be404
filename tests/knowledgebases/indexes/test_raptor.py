"""RAPTOR against the fake chat model: tree depth on a known input, degenerate inputs, failures."""

import numpy as np
import pytest

from documents.models import Chunk
from knowledgebases import raptor
from knowledgebases.llm_calls import RetryPolicy
from knowledgebases.raptor import POSITION_BASE, POSITION_LEVEL_STEP, choose_clusters
from tasks.choices import TaskStatus
from tests.fakes.chat_server import Reply
from tests.knowledgebases.indexes.conftest import DIMENSION, add_document, start_inline

pytestmark = pytest.mark.django_db

GROUPS = ("alpha", "beta", "gamma")
LEVEL_ONE_SUMMARY = "Cluster summary of the survey passages."


def grouped_vectors(per_group: int = 3, dimension: int = DIMENSION) -> list[list[float]]:
    """Return vectors in three tight, well-separated groups, in GROUPS order."""
    rng = np.random.default_rng(7)
    vectors = []
    for group in range(len(GROUPS)):
        center = np.zeros(dimension)
        center[group * 10 : group * 10 + 10] = 1.0
        for _ in range(per_group):
            vector = center + rng.normal(scale=0.01, size=dimension)
            vectors.append((vector / np.linalg.norm(vector)).tolist())
    return vectors


def grouped_texts(per_group: int = 3) -> list[str]:
    return [f"Group {group} passage {number} about the survey." for group in GROUPS for number in range(per_group)]


def summary_responder(body):
    prompt = body["messages"][-1]["content"]
    if LEVEL_ONE_SUMMARY in prompt:
        return Reply(content="<think>Combine the summaries.</think>Root summary of every group.")
    return Reply(content=LEVEL_ONE_SUMMARY)


def raptor_chunks(dataset, level=None):
    chunks = Chunk.objects.filter(dataset=dataset, kind="raptor").order_by("position")
    if level is not None:
        start = POSITION_BASE + level * POSITION_LEVEL_STEP
        chunks = chunks.filter(position__gte=start, position__lt=start + POSITION_LEVEL_STEP)
    return list(chunks)


def test_clusters_follow_known_groups():
    clusters = choose_clusters(np.array(grouped_vectors()), max_cluster=64, seed=0, threshold=0.3)

    assert sorted(clusters) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_max_cluster_bounds_cluster_count():
    clusters = choose_clusters(np.array(grouped_vectors()), max_cluster=2, seed=0, threshold=0.3)

    assert len(clusters) <= 2


def test_tree_has_two_levels(auth_client, index_dataset, chat_server):
    chat_server.responder = summary_responder
    dataset = index_dataset()
    document = add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "RAPTOR done: 4 summaries" in task.progress_msg
    assert len(raptor_chunks(dataset, level=1)) == 3
    root = raptor_chunks(dataset, level=2)
    assert [chunk.content for chunk in root] == ["Root summary of every group."]
    level_one_prompts = [request.user_prompt for request in chat_server.requests[:3]]
    for group in GROUPS:
        prompt = next(prompt for prompt in level_one_prompts if f"Group {group}" in prompt)
        assert all(f"Group {other}" not in prompt for other in GROUPS if other != group)
        assert prompt.count("passage") == 3
    for chunk in raptor_chunks(dataset):
        assert chunk.document_id == document.id
        assert chunk.embedding_dimension == DIMENSION
        assert chunk.search_vector is not None
        assert chunk.task_id == task.id
        assert chunk.available
    assert all(request.body["max_tokens"] == 512 for request in chat_server.requests)


def test_trace_lists_summary_chunk_ids(auth_client, index_dataset, chat_server):
    chat_server.responder = summary_responder
    dataset = index_dataset()
    add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())
    start_inline(auth_client, dataset.id, "raptor")

    trace = auth_client.get(f"/api/v1/datasets/{dataset.id}/trace_raptor").json()["data"]

    assert trace["chunk_ids"].split() == [chunk.id for chunk in raptor_chunks(dataset)]
    assert trace["progress"] == 1.0


def test_fewer_than_three_chunks_skip(auth_client, index_dataset, chat_server):
    dataset = index_dataset()
    add_document(dataset, "short.txt", ["One passage.", "Another passage."])

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "Document short.txt: 2 chunks, fewer than three; skipping clustering." in task.progress_msg
    assert "RAPTOR done: 0 summaries" in task.progress_msg
    assert chat_server.requests == []


def test_identical_embeddings_skip(auth_client, index_dataset, chat_server):
    dataset = index_dataset()
    add_document(dataset, "same.txt", [f"Passage {number}." for number in range(4)], vectors=[[0.5] * DIMENSION] * 4)

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "all 4 chunk embeddings are identical; skipping clustering." in task.progress_msg
    assert raptor_chunks(dataset) == []


def test_failed_summary_skips_its_cluster(auth_client, index_dataset, chat_server, monkeypatch):
    monkeypatch.setattr(raptor, "SUMMARY_POLICY", RetryPolicy(attempts=2, backoff_seconds=0, backoff_max_seconds=0))
    chat_server.responder = lambda body: (
        Reply(status=500) if "Group beta" in body["messages"][-1]["content"] else summary_responder(body)
    )
    dataset = index_dataset()
    add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "failed and its cluster is skipped: TransientChatError" in task.progress_msg
    assert "RAPTOR done: 3 summaries, 1 failed summaries" in task.progress_msg
    beta_requests = [request for request in chat_server.requests if "Group beta" in request.user_prompt]
    assert len(beta_requests) == 2
    assert len(raptor_chunks(dataset, level=1)) == 2
    assert len(raptor_chunks(dataset, level=2)) == 1


def test_all_summaries_failing_fails_task(auth_client, index_dataset, chat_server, monkeypatch):
    monkeypatch.setattr(raptor, "SUMMARY_POLICY", RetryPolicy(attempts=1, backoff_seconds=0, backoff_max_seconds=0))
    chat_server.responder = lambda body: Reply(status=429)
    dataset = index_dataset()
    add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.FAILED
    assert "All 3 summary requests failed" in task.error


def test_rerun_skips_summarised_documents(auth_client, index_dataset, chat_server):
    chat_server.responder = summary_responder
    dataset = index_dataset()
    add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())
    start_inline(auth_client, dataset.id, "raptor")
    sent = len(chat_server.requests)

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "1 documents already have RAPTOR summaries" in task.progress_msg
    assert len(chat_server.requests) == sent
    assert len(raptor_chunks(dataset)) == 4


def test_dataset_scope_spans_documents(auth_client, index_dataset, chat_server):
    chat_server.responder = summary_responder
    dataset = index_dataset(raptor={"scope": "dataset"})
    texts, vectors = grouped_texts(), grouped_vectors()
    first = add_document(dataset, "first.txt", texts[:6], vectors=vectors[:6])
    second = add_document(dataset, "second.txt", texts[6:], vectors=vectors[6:])

    task = start_inline(auth_client, dataset.id, "raptor")

    assert task.status == TaskStatus.DONE, task.progress_msg
    owners = [chunk.document_id for chunk in raptor_chunks(dataset, level=1)]
    assert sorted(owners) == sorted([first.id, first.id, second.id])
    assert raptor_chunks(dataset, level=2)[0].document_id == first.id


def test_delete_index_removes_summaries(auth_client, index_dataset, chat_server):
    chat_server.responder = summary_responder
    dataset = index_dataset()
    add_document(dataset, "survey.txt", grouped_texts(), vectors=grouped_vectors())
    start_inline(auth_client, dataset.id, "raptor")

    body = auth_client.delete(f"/api/v1/datasets/{dataset.id}/index?type=raptor").json()

    assert body == {"code": 0, "data": {}}
    assert raptor_chunks(dataset) == []
    assert Chunk.objects.filter(dataset=dataset, kind="").count() == 9
