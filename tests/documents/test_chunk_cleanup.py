"""Chunks and tasks follow their document: reset, disable and delete."""

import pytest

from documents.choices import RunStatus
from documents.models import Chunk, Document
from knowledgebases.models import Dataset
from tasks.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def parsed_document(dataset, uploaded):
    doc = uploaded("parsed.txt")
    Document.objects.filter(pk=doc["id"]).update(run=RunStatus.DONE, progress=1, chunk_num=2, token_num=20)
    Dataset.objects.filter(pk=dataset.id).update(chunk_num=2, token_num=20)
    for position in range(2):
        Chunk.objects.create(id=f"{position:016x}", dataset=dataset, document_id=doc["id"], content=f"chunk {position}", position=position)
    Task.objects.create(dataset=dataset, document_id=doc["id"])
    return doc


def test_chunk_method_change_removes_chunks_and_tasks(auth_client, dataset, parsed_document):
    url = f"/api/v1/datasets/{dataset.id}/documents/{parsed_document['id']}"

    body = auth_client.patch(url, {"chunk_method": "one"}, format="json").json()

    assert body["code"] == 0
    assert Chunk.objects.filter(document_id=parsed_document["id"]).count() == 0
    assert Task.objects.filter(document_id=parsed_document["id"]).count() == 0


def test_disable_marks_chunks_unavailable(auth_client, dataset, parsed_document):
    url = f"/api/v1/datasets/{dataset.id}/documents/{parsed_document['id']}"

    auth_client.patch(url, {"enabled": 0}, format="json")
    disabled = set(Chunk.objects.values_list("available", flat=True))
    auth_client.patch(url, {"enabled": 1}, format="json")
    enabled = set(Chunk.objects.values_list("available", flat=True))

    assert disabled == {False}
    assert enabled == {True}


def test_delete_removes_chunks_tasks_and_counters(auth_client, dataset, parsed_document):
    body = auth_client.delete(f"/api/v1/datasets/{dataset.id}/documents", {"ids": [parsed_document["id"]]}, format="json").json()

    assert body == {"code": 0, "data": {"deleted": 1}}
    assert Chunk.objects.count() == 0
    assert Task.objects.count() == 0
    dataset.refresh_from_db()
    assert (dataset.doc_num, dataset.chunk_num, dataset.token_num) == (0, 0, 0)
