"""ragflow-sdk against a live server: upload, list, update, download and delete documents."""

import pytest
from ragflow_sdk import RAGFlow

from accounts import services as account_services
from knowledgebases import services as dataset_services
from tests.documents.conftest import corpus_file

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

NON_ASCII_NAME = "debian 常见问题 zh-cn.txt"


@pytest.fixture
def sdk_dataset(live_server, user, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _, key = account_services.create_api_key(tenant_id=user.id, created_by=user)
    dataset_services.create_dataset(tenant_id=user.id, user=user, name="sdk documents")
    rag = RAGFlow(api_key=key, base_url=live_server.url)
    return rag.get_dataset(name="sdk documents")


def test_sdk_document_lifecycle(sdk_dataset, file_storage):
    pdf = corpus_file("invoice-borderless-tables.pdf")
    docs = sdk_dataset.upload_documents(
        [
            {"display_name": "invoice.pdf", "blob": pdf},
            {"display_name": NON_ASCII_NAME, "blob": corpus_file(NON_ASCII_NAME)},
            {"display_name": "notes.txt", "blob": b"first line\n"},
        ]
    )
    assert [doc.name for doc in docs] == ["invoice.pdf", NON_ASCII_NAME, "notes.txt"]
    assert docs[0].run == "UNSTART"

    listed = sdk_dataset.list_documents(orderby="name", desc=False)
    assert sorted(doc.name for doc in listed) == sorted(["invoice.pdf", NON_ASCII_NAME, "notes.txt"])
    assert [doc.name for doc in sdk_dataset.list_documents(keywords="invoice")] == ["invoice.pdf"]
    assert [doc.id for doc in sdk_dataset.list_documents(id=docs[2].id)] == [docs[2].id]
    assert len(sdk_dataset.list_documents(ids=[docs[0].id, docs[1].id])) == 2

    docs[2].update({"name": "renamed.txt", "meta_fields": {"author": "ann"}})
    assert docs[2].name == "renamed.txt"
    assert sdk_dataset.list_documents(id=docs[2].id)[0].name == "renamed.txt"

    assert docs[0].download() == pdf
    assert docs[1].download() == corpus_file(NON_ASCII_NAME)

    sdk_dataset.delete_documents(ids=[docs[0].id])
    assert len(sdk_dataset.list_documents()) == 2
    sdk_dataset.delete_documents(delete_all=True)
    assert sdk_dataset.list_documents() == []
    assert [path for path in file_storage.rglob("*") if path.is_file()] == []


def test_sdk_errors_surface_messages(sdk_dataset):
    with pytest.raises(Exception, match="No file part!"):
        sdk_dataset.upload_documents([])
    with pytest.raises(Exception, match="This type of file has not been supported yet!"):
        sdk_dataset.upload_documents([{"display_name": "tool.exe", "blob": b"MZ"}])
    with pytest.raises(Exception, match="Document not found: missing"):
        sdk_dataset.delete_documents(ids=["missing"])

    [doc] = sdk_dataset.upload_documents([{"display_name": "a.txt", "blob": b"x"}])
    with pytest.raises(Exception, match="The extension of file can't be changed"):
        doc.update({"name": "a.md"})
