"""Fixtures of index tests: datasets with graph and RAPTOR settings, parsed documents, inline jobs."""

from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from documents import chunk_store
from documents.choices import RunStatus
from documents.models import Document
from knowledgebases import services as dataset_services
from knowledgebases.parser_config import DEFAULT_RAPTOR_PROMPT
from tasks.choices import TaskStatus
from tasks.models import Task
from tests.fakes.chat_server import bag_of_words_vector
from tests.knowledgebases.conftest import DIMENSION, EMBEDDING_MODEL

GRAPH_SETTINGS = {
    "use_graphrag": True,
    "entity_types": ["organization", "person", "geo", "event", "category"],
    "method": "light",
    "retry_attempts": 1,
    "retry_backoff_seconds": 0.0,
    "retry_backoff_max_seconds": 0.0,
}
RAPTOR_SETTINGS = {"use_raptor": True, "prompt": DEFAULT_RAPTOR_PROMPT, "max_token": 512, "max_cluster": 64, "random_seed": 0}


@pytest.fixture
def index_dataset(user, fake_models):
    """Create a dataset that embeds with the fake model; keyword arguments override graphrag and raptor settings."""

    def create(name="graph", graphrag=None, raptor=None):
        config = {"graphrag": GRAPH_SETTINGS | (graphrag or {}), "raptor": RAPTOR_SETTINGS | (raptor or {})}
        return dataset_services.create_dataset(
            tenant_id=user.id, user=user, name=name, embedding_model=EMBEDDING_MODEL, parser_config=config
        )

    return create


def add_document(dataset, name: str, texts: list[str], vectors: list[list[float]] | None = None, dimension: int = DIMENSION):
    """Create a parsed document with one chunk per text, embedded like the fake server does unless ``vectors`` are given."""
    document = Document.objects.create(
        dataset=dataset, created_by=dataset.created_by, name=name, type="doc", suffix="txt", chunk_method="naive",
        run=RunStatus.DONE, progress=1.0,
    )
    task = Task.objects.create(dataset=dataset, document=document, status=TaskStatus.DONE, progress=1.0)
    vectors = vectors or [bag_of_words_vector(text, dimension) for text in texts]
    rows = [
        chunk_store.ChunkData(content=text, embedding=vector, position=index, token_count=len(text.split()))
        for index, (text, vector) in enumerate(zip(texts, vectors))
    ]
    with transaction.atomic():
        chunk_store.replace_task_chunks(task_id=task.id, dataset_id=dataset.id, document_id=document.id, chunks=rows)
    Document.objects.filter(pk=document.pk).update(chunk_num=len(rows))
    return document


def run_inline(task_id: str):
    """Run a queued index task's job in this process, as a worker would."""
    from tasks import index_jobs, jobs

    Task.objects.filter(pk=task_id).update(rq_job_id="")
    # The job closes stale connections as a worker must; here that would end the test's transaction.
    with mock.patch.object(jobs, "close_old_connections", lambda: None):
        index_jobs.run_index_task(task_id)
    return Task.objects.filter(pk=task_id).first()


def start_inline(client, dataset_id: str, index_type: str):
    """Start an index through the API and run its job in this process; return the task row."""
    response = client.post(f"/api/v1/datasets/{dataset_id}/index?type={index_type}")
    body = response.json()
    assert body["code"] == 0, body
    return run_inline(body["data"]["task_id"])


def now():
    return timezone.now()
