"""ragflow-sdk against a live server: add, list, update and delete chunks, then retrieve."""

import pytest
from ragflow_sdk import RAGFlow
from ragflow_sdk.modules.chunk import ChunkUpdateError

from accounts import services as account_services
from knowledgebases import services as dataset_services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def rag(live_server, user, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _, key = account_services.create_api_key(tenant_id=user.id, created_by=user)
    dataset_services.create_dataset(tenant_id=user.id, user=user, name="sdk chunks")
    return RAGFlow(api_key=key, base_url=live_server.url)


def test_sdk_chunk_lifecycle_and_retrieve(rag, file_storage):
    dataset = rag.get_dataset(name="sdk chunks")
    document = dataset.upload_documents([{"display_name": "notes.txt", "blob": b"placeholder\n"}])[0]

    added = [document.add_chunk(content=f"chunk test {number}", important_keywords=["sdk"]) for number in range(4)]
    assert [chunk.content for chunk in added] == [f"chunk test {number}" for number in range(4)]
    assert added[0].dataset_id == dataset.id
    assert added[0].document_id == document.id

    listed = document.list_chunks()
    assert sorted(chunk.id for chunk in listed) == sorted(chunk.id for chunk in added)
    assert [chunk.id for chunk in document.list_chunks(id=added[1].id)] == [added[1].id]
    assert dataset.list_documents(id=document.id)[0].chunk_count == 4

    added[0].update({"content": "chunk test zero rewritten", "important_keywords": ["rewritten"]})
    assert document.list_chunks(id=added[0].id)[0].content == "chunk test zero rewritten"
    with pytest.raises(ChunkUpdateError) as raised:
        added[0].update({"content": "  "})
    assert raised.value.code == 102

    found = rag.retrieve(dataset_ids=[dataset.id], question="chunk")
    assert sorted(chunk.id for chunk in found) == sorted(chunk.id for chunk in added)
    assert all(chunk.document_name == "notes.txt" for chunk in found)
    assert all(chunk.similarity > 0 for chunk in found)
    paged = rag.retrieve(dataset_ids=[dataset.id], question="chunk", page=2, page_size=3)
    assert len(paged) == 1

    document.delete_chunks(ids=[added[3].id])
    assert len(document.list_chunks()) == 3
    document.delete_chunks(delete_all=True)
    assert document.list_chunks() == []
    assert dataset.list_documents(id=document.id)[0].chunk_count == 0
