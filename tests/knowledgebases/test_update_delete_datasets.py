"""PUT /api/v1/datasets/<id> and DELETE /api/v1/datasets."""

import uuid

import pytest

from knowledgebases.models import Dataset

pytestmark = pytest.mark.django_db

URL = "/api/v1/datasets"


def put(client, dataset_id, body):
    response = client.put(f"{URL}/{dataset_id}", body, format="json")
    assert response.status_code == 200
    return response.json()


def delete(client, body):
    response = client.delete(URL, body, format="json")
    assert response.status_code == 200
    return response.json()


def test_update_returns_full_dataset(auth_client, create_dataset):
    dataset = create_dataset(name="before")

    payload = put(auth_client, dataset["id"], {"name": "after", "description": "text", "pagerank": 50, "permission": "team"})

    assert payload["code"] == 0
    data = payload["data"]
    assert data["name"] == "after"
    assert data["description"] == "text"
    assert data["pagerank"] == 50
    assert data["permission"] == "team"
    assert data["connectors"] == []
    assert data["parser_config"] == dataset["parser_config"]
    stored = Dataset.objects.get(pk=dataset["id"])
    assert (stored.name, stored.pagerank) == ("after", 50)


def test_update_keeps_unset_fields(auth_client, create_dataset):
    dataset = create_dataset(name="keep", description="kept", avatar="data:image/png;base64,AA==")

    data = put(auth_client, dataset["id"], {"name": "renamed"})["data"]

    for key in ("avatar", "description", "embedding_model", "permission", "chunk_method", "pagerank", "parser_config"):
        assert data[key] == dataset[key], key


def test_update_chunk_method_resets_parser_config(auth_client, create_dataset):
    dataset = create_dataset()

    data = put(auth_client, dataset["id"], {"chunk_method": "qa"})["data"]

    assert data["chunk_method"] == "qa"
    assert data["parser_config"] == {
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
        "image_context_size": 0,
        "table_context_size": 0,
    }


def test_update_parser_config_deep_merges(auth_client, create_dataset):
    dataset = create_dataset()

    data = put(auth_client, dataset["id"], {"parser_config": {"chunk_token_num": 1024, "raptor": {"max_cluster": 8}}})["data"]

    config = data["parser_config"]
    assert config["chunk_token_num"] == 1024
    assert config["raptor"]["max_cluster"] == 8
    assert config["raptor"]["use_raptor"] is True
    assert config["graphrag"] == dataset["parser_config"]["graphrag"]
    assert config["children_delimiter"] == ""
    assert config["enable_children"] is False


def test_update_parent_child_enables_children(auth_client, create_dataset):
    dataset = create_dataset()
    body = {"parser_config": {"parent_child": {"use_parent_child": True, "children_delimiter": ";"}}}

    config = put(auth_client, dataset["id"], body)["data"]["parser_config"]

    assert config["children_delimiter"] == ";"
    assert config["enable_children"] is True
    assert config["parent_child"] == {"use_parent_child": True, "children_delimiter": ";"}


@pytest.mark.parametrize("parser_config", [{}, None])
def test_update_empty_parser_config_keeps_stored(auth_client, create_dataset, parser_config):
    dataset = create_dataset()

    data = put(auth_client, dataset["id"], {"parser_config": parser_config})["data"]

    assert data["parser_config"] == dataset["parser_config"]


def test_update_embedding_model(auth_client, create_dataset):
    dataset = create_dataset()

    data = put(auth_client, dataset["id"], {"embedding_model": "all-MiniLM-L6-v2@default@Builtin"})["data"]
    kept = put(auth_client, dataset["id"], {"embedding_model": ""})["data"]

    assert data["embedding_model"] == "all-MiniLM-L6-v2@default@Builtin"
    assert data["tenant_embd_id"] == dataset["tenant_embd_id"]
    assert kept["embedding_model"] == "all-MiniLM-L6-v2@default@Builtin"


def test_update_unknown_embedding_model(auth_client, create_dataset):
    dataset = create_dataset()

    payload = put(auth_client, dataset["id"], {"embedding_model": "unknown@Builtin"})

    assert payload == {"code": 102, "message": "Model unknown@Builtin not found for model embedding"}
    assert Dataset.objects.get(pk=dataset["id"]).embedding_model == "all-MiniLM-L6-v2@Builtin"


def test_update_duplicate_name(auth_client, create_dataset):
    first = create_dataset(name="first")
    create_dataset(name="second")

    payload = put(auth_client, first["id"], {"name": "SECOND"})

    assert payload == {"code": 102, "message": "Dataset name 'SECOND' already exists"}


def test_update_case_of_own_name(auth_client, create_dataset):
    dataset = create_dataset(name="case")

    assert put(auth_client, dataset["id"], {"name": "CASE"})["data"]["name"] == "CASE"


def test_update_empty_body(auth_client, create_dataset):
    dataset = create_dataset()

    assert put(auth_client, dataset["id"], {}) == {"code": 102, "message": "no properties were modified"}


def test_update_unknown_dataset(auth_client, user):
    unknown = uuid.uuid1().hex

    payload = put(auth_client, unknown, {"name": "x"})

    assert payload == {"code": 102, "message": f"User '{user.id}' lacks permission for dataset '{unknown}'"}


def test_update_malformed_dataset_id(auth_client):
    payload = put(auth_client, "not-a-uuid", {"name": "x"})

    assert payload["code"] == 101
    assert "Invalid UUID format" in payload["message"]


def test_update_connectors_not_supported(auth_client, create_dataset):
    dataset = create_dataset()

    payload = put(auth_client, dataset["id"], {"connectors": [{"id": "c"}]})

    assert payload["code"] == 101
    assert "connectors are not supported" in payload["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "String should have at least 1 character"),
        ({"name": " "}, "String should have at least 1 character"),
        ({"name": "a" * 129}, "String should have at most 128 characters"),
        ({"name": None}, "Input should be a valid string"),
        ({"pagerank": None}, "Input should be a valid integer"),
        ({"pagerank": -1}, "Input should be greater than or equal to 0"),
        ({"pagerank": 101}, "Input should be less than or equal to 100"),
        ({"language": "a" * 33}, "String should have at most 32 characters"),
        ({"permission": "TEAM"}, "Input should be 'me' or 'team'"),
        ({"chunk_method": "unknown"}, "Input should be 'naive', 'book'"),
        ({"parser_config": {"auto_keywords": 33}}, "Input should be less than or equal to 32"),
        ({"embedding_model": "plain"}, "Embedding model identifier must follow <model_name>@<provider> format"),
        ({"id": "id"}, "Extra inputs are not permitted"),
        ({"tenant_id": uuid.uuid1().hex}, "Extra inputs are not permitted"),
        ({"document_count": 1}, "Extra inputs are not permitted"),
        ({"chunk_count": 1}, "Extra inputs are not permitted"),
        ({"token_num": 1}, "Extra inputs are not permitted"),
        ({"status": "1"}, "Extra inputs are not permitted"),
        ({"create_time": 1}, "Extra inputs are not permitted"),
    ],
)
def test_update_rejects_bad_field(auth_client, create_dataset, body, message):
    dataset = create_dataset(name="unchanged")

    payload = put(auth_client, dataset["id"], body)

    assert payload["code"] == 101
    assert message in payload["message"]
    assert Dataset.objects.get(pk=dataset["id"]).name == "unchanged"


def test_delete_by_ids(auth_client, create_dataset):
    first = create_dataset(name="first")
    second = create_dataset(name="second")
    kept = create_dataset(name="kept")

    payload = delete(auth_client, {"ids": [first["id"], second["id"]]})

    assert payload == {"code": 0, "data": {"success_count": 2}}
    assert list(Dataset.objects.values_list("pk", flat=True)) == [kept["id"]]


def test_delete_dashed_ids(auth_client, create_dataset):
    dataset = create_dataset()

    payload = delete(auth_client, {"ids": [str(uuid.UUID(dataset["id"]))]})

    assert payload["data"]["success_count"] == 1


@pytest.mark.parametrize("body", [{}, {"ids": None}, {"ids": []}, {"ids": [], "delete_all": False}])
def test_delete_without_ids_deletes_nothing(auth_client, create_dataset, body):
    create_dataset()

    payload = delete(auth_client, body)

    assert payload == {"code": 0, "data": {"success_count": 0}}
    assert Dataset.objects.count() == 1


def test_delete_all_deletes_only_own(auth_client, create_dataset, other_client):
    create_dataset(name="mine 1")
    create_dataset(name="mine 2")
    foreign = create_dataset(client=other_client, name="theirs")

    payload = delete(auth_client, {"delete_all": True})

    assert payload == {"code": 0, "data": {"success_count": 2}}
    assert list(Dataset.objects.values_list("pk", flat=True)) == [foreign["id"]]


def test_delete_with_foreign_id_deletes_nothing(auth_client, user, create_dataset, other_client):
    own = create_dataset(name="mine")
    foreign = create_dataset(client=other_client, name="theirs")
    unknown = uuid.uuid1().hex

    payload = delete(auth_client, {"ids": [own["id"], foreign["id"], unknown]})

    assert payload == {"code": 102, "message": f"User '{user.id}' lacks permission for datasets: '{foreign['id']}, {unknown}'"}
    assert Dataset.objects.count() == 2


def test_delete_twice_fails_second_time(auth_client, create_dataset):
    dataset = create_dataset()
    delete(auth_client, {"ids": [dataset["id"]]})

    payload = delete(auth_client, {"ids": [dataset["id"]]})

    assert payload["code"] == 102
    assert dataset["id"] in payload["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ids": ["bad"]}, "Invalid UUID format"),
        ({"ids": "a"}, "Input should be a valid list"),
        ({"delete_all": "true"}, "Input should be a valid boolean"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
    ],
)
def test_delete_rejects_bad_body(auth_client, create_dataset, body, message):
    create_dataset()

    payload = delete(auth_client, body)

    assert payload["code"] == 101
    assert message in payload["message"]
    assert Dataset.objects.count() == 1


def test_delete_rejects_duplicate_ids(auth_client, create_dataset):
    dataset = create_dataset()

    payload = delete(auth_client, {"ids": [dataset["id"], dataset["id"]]})

    assert payload["code"] == 101
    assert f"Field: <ids> - Message: <Duplicate ids: '{dataset['id']}'" in payload["message"]
    assert Dataset.objects.count() == 1


def test_delete_without_body(auth_client, create_dataset):
    create_dataset()

    response = auth_client.delete(URL, content_type="application/json")

    assert response.json() == {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding"}
