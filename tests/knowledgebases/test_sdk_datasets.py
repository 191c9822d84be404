"""Datasets through the official ragflow-sdk client against a live test server."""

import pytest
from ragflow_sdk import RAGFlow
from ragflow_sdk.modules.dataset import DataSet

from accounts import services as account_services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rag(live_server, make_user):
    user = make_user(nickname="sdk")
    _, key = account_services.create_api_key(tenant_id=user.id, created_by=user)
    return RAGFlow(api_key=key, base_url=live_server.url)


def test_sdk_dataset_lifecycle(rag):
    created = rag.create_dataset(name="sdk dataset", description="from the SDK")

    listed = rag.list_datasets()
    fetched = rag.get_dataset(name="sdk dataset")
    created.update({"name": "renamed", "chunk_method": "qa"})
    by_id = rag.list_datasets(id=created.id)
    rag.delete_datasets(ids=[created.id])

    assert created.embedding_model == "all-MiniLM-L6-v2@Builtin"
    assert created.permission == "me"
    assert created.document_count == 0
    assert [d.id for d in listed] == [created.id]
    assert fetched.description == "from the SDK"
    assert created.name == "renamed"
    assert created.chunk_method == "qa"
    assert created.parser_config.to_json() == {
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
        "image_context_size": 0,
        "table_context_size": 0,
    }
    assert by_id[0].name == "renamed"
    assert rag.list_datasets() == []


def test_sdk_parser_config_and_duplicate_names(rag):
    first = rag.create_dataset(name="Same")
    second = rag.create_dataset(name="same", parser_config=DataSet.ParserConfig(rag, {"chunk_token_num": 1024}))

    assert first.name == "Same"
    assert second.name == "same(1)"
    assert second.parser_config.chunk_token_num == 1024
    assert second.parser_config.raptor.use_raptor is False


def test_sdk_errors_raise_with_message(rag):
    with pytest.raises(Exception, match="not found"):
        rag.create_dataset(name="bad model", embedding_model="BAAI/bge-small-en-v1.5@Builtin")
    with pytest.raises(Exception, match="Dataset missing not found|lacks permission"):
        rag.get_dataset(name="missing")
    with pytest.raises(Exception, match="Input should be less than or equal to 100"):
        rag.list_datasets(page_size=101)
    with pytest.raises(Exception, match="lacks permission for datasets"):
        rag.delete_datasets(ids=["0" * 32])
