"""Parse tasks with an HTTP embedding provider: retries of transient errors, failure on permanent ones."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.choices import RunStatus
from documents.models import Chunk
from tasks.models import Task
from tests.fakes.openai_server import FakeOpenAIServer
from tests.tasks.conftest import wait_for_run

pytestmark = pytest.mark.slow


@pytest.fixture
def fake_provider():
    with FakeOpenAIServer(dimension=16) as server:
        yield server


@pytest.fixture
def dataset_id(auth_client, fake_provider, transactional_db):
    auth_client.put("/api/v1/providers", {"provider_name": "OpenAI-API-Compatible"}, format="json")
    instance = {
        "instance_name": "fake",
        "api_key": "sk-fake",
        "base_url": fake_provider.base_url,
        "model_info": [{"model_type": ["embedding"], "model_name": "fake-embed", "max_tokens": 512}],
    }
    added = auth_client.post("/api/v1/providers/OpenAI-API-Compatible/instances", instance, format="json").json()
    assert added["code"] == 0, added
    created = auth_client.post(
        "/api/v1/datasets",
        {"name": "remote embeddings", "embedding_model": "fake-embed@fake@OpenAI-API-Compatible"},
        format="json",
    ).json()
    assert created["code"] == 0, created
    return created["data"]["id"]


def upload_and_parse(client, dataset_id) -> str:
    upload = SimpleUploadedFile("notes.txt", b"Tide tables for the harbour.\n\nWind and swell forecast.")
    document_id = client.post(f"/api/v1/datasets/{dataset_id}/documents", {"file": upload}, format="multipart").json()[
        "data"
    ][0]["id"]
    client.post(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": [document_id]}, format="json")
    return document_id


def test_server_errors_retried_then_done(auth_client, dataset_id, fake_provider, start_worker):
    # Three 503s use up the client's own attempts in the first run of the task; the retry succeeds.
    fake_provider.script.extend([(503, {"error": "overloaded"})] * 3)
    worker = start_worker()

    document_id = upload_and_parse(auth_client, dataset_id)

    document = wait_for_run(document_id, worker=worker)
    assert document.run == RunStatus.DONE, document.progress_msg
    assert "Retrying in" in document.progress_msg
    assert Task.objects.get(document_id=document_id).attempts == 2
    assert Chunk.objects.filter(document_id=document_id, embedding_dimension=16).count() == document.chunk_num > 0
    assert all(request["body"]["model"] == "fake-embed" for request in fake_provider.requests)


def test_rejected_key_fails_without_retry(auth_client, dataset_id, fake_provider, start_worker):
    fake_provider.script.append((401, {"error": "invalid api key"}))
    worker = start_worker()

    document_id = upload_and_parse(auth_client, dataset_id)

    document = wait_for_run(document_id, worker=worker)
    assert document.run == RunStatus.FAIL
    assert "HTTP 401" in document.progress_msg
    assert Task.objects.get(document_id=document_id).attempts == 1
    assert len(fake_provider.requests) == 1
    assert not Chunk.objects.filter(document_id=document_id).exists()
