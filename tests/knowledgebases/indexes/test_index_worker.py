"""The real path: upload and parse real files with the worker, then build the indexes with the worker."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.choices import RunStatus
from knowledgebases.graph_models import GraphEntity
from knowledgebases.models import Dataset
from tasks.choices import TaskStatus
from tasks.models import Task
from tests.fakes.chat_server import Reply
from tests.knowledgebases.conftest import CHAT_MODEL
from tests.knowledgebases.indexes.responders import generic_extraction
from tests.tasks.conftest import start_worker, wait_for_run  # noqa: F401 - start_worker is a fixture
from tests.corpus import DOCS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CORPUS = DOCS
FILES = ("moliere-bio-cp1252.txt", "portuguese-latin1.txt")
# A graph of two small files takes a few seconds; the limit leaves room for a slow machine.
INDEX_TIMEOUT = 120


def wait_for_task(task_id: str, worker, timeout: float = INDEX_TIMEOUT) -> Task:
    deadline = time.monotonic() + timeout
    while True:
        task = Task.objects.filter(pk=task_id).first()
        if task is None or task.status in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED):
            return task
        assert time.monotonic() < deadline, f"task stayed {task.status}: {task.progress_msg}\n{worker.output()}"
        time.sleep(0.3)


@pytest.fixture
def parsed_dataset(auth_client, fake_models, start_worker):  # noqa: F811
    """A dataset on the built-in embedding model whose two real files were parsed by a worker."""
    fake_models.responder = generic_extraction
    body = auth_client.post(
        "/api/v1/datasets", {"name": "real path", "parser_config": {"chunk_token_num": 128}}, format="json"
    ).json()
    dataset_id = body["data"]["id"]
    document_ids = []
    for name in FILES:
        upload = SimpleUploadedFile(name, (CORPUS / name).read_bytes())
        response = auth_client.post(f"/api/v1/datasets/{dataset_id}/documents", {"file": upload}, format="multipart").json()
        document_ids.append(response["data"][0]["id"])
    worker = start_worker()
    assert auth_client.post(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids}, format="json").json() == {"code": 0}
    for document_id in document_ids:
        document = wait_for_run(document_id, worker=worker)
        assert document.run == RunStatus.DONE, document.progress_msg
    return dataset_id, worker


def test_graph_and_raptor_built_by_worker(auth_client, parsed_dataset, fake_models):
    dataset_id, worker = parsed_dataset
    assert Dataset.objects.get(pk=dataset_id).parser_config["llm_id"] == CHAT_MODEL

    task_id = auth_client.post(f"/api/v1/datasets/{dataset_id}/index?type=graph").json()["data"]["task_id"]
    task = wait_for_task(task_id, worker)

    assert task.status == TaskStatus.DONE, task.progress_msg + worker.output()
    assert "Knowledge graph done" in task.progress_msg
    assert GraphEntity.objects.filter(dataset_id=dataset_id, key="molière").exists()
    graph = auth_client.get(f"/api/v1/datasets/{dataset_id}/knowledge_graph").json()["data"]["graph"]
    assert len(graph["nodes"]) == GraphEntity.objects.filter(dataset_id=dataset_id).count()
    assert GraphEntity.objects.get(dataset_id=dataset_id, key="molière").embedding_dimension == 384

    fake_models.responder = lambda body: Reply(content="A summary of the passages.")
    task_id = auth_client.post(f"/api/v1/datasets/{dataset_id}/run_raptor").json()["data"]["task_id"]
    task = wait_for_task(task_id, worker)

    assert task.status == TaskStatus.DONE, task.progress_msg + worker.output()
    assert "RAPTOR done" in task.progress_msg
    assert "Traceback" not in worker.output()


def test_dataset_deleted_mid_job_stops_cleanly(auth_client, parsed_dataset, fake_models):
    dataset_id, worker = parsed_dataset

    def slow(body):
        reply = generic_extraction(body)
        reply.delay = 1.0
        return reply

    fake_models.responder = slow
    Dataset.objects.filter(pk=dataset_id).update(
        parser_config={**Dataset.objects.get(pk=dataset_id).parser_config, "graphrag": {"batch_chunk_token_size": 512, "method": "general"}}
    )
    task_id = auth_client.post(f"/api/v1/datasets/{dataset_id}/index?type=graph").json()["data"]["task_id"]
    deadline = time.monotonic() + INDEX_TIMEOUT
    while not fake_models.requests:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)

    body = auth_client.delete("/api/v1/datasets", {"ids": [dataset_id]}, format="json").json()

    assert body == {"code": 0, "data": {"success_count": 1}}
    deadline = time.monotonic() + INDEX_TIMEOUT
    while f"Index task {task_id} stopped" not in worker.output():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.3)
    assert not Task.objects.filter(pk=task_id).exists()
    assert not GraphEntity.objects.filter(dataset_id=dataset_id).exists()
    assert worker.process.poll() is None
    assert "Traceback" not in worker.output()
