"""GET /models, PUT /providers, POST /providers/<name>/instances and /models/default."""

import logging

import pytest

from accounts.models import Tenant
from knowledgebases.models import ProviderInstance

pytestmark = pytest.mark.django_db

SECRET = "sk-test-secret-value"
INSTANCE_BODY = {
    "instance_name": "CI",
    "api_key": SECRET,
    "region": "default",
    "base_url": "",
    "model_info": [
        {"model_type": ["chat"], "model_name": "glm-4-flash", "max_tokens": 8192},
        {"model_type": ["embedding"], "model_name": "embedding-3", "max_tokens": 8192, "dimension": 2048},
    ],
}


def add_zhipu(client):
    assert client.put("/api/v1/providers", {"provider_name": "ZHIPU-AI"}, format="json").json() == {"code": 0}
    response = client.post("/api/v1/providers/ZHIPU-AI/instances", INSTANCE_BODY, format="json")
    assert response.json() == {"code": 0}


def test_new_tenant_has_builtin_embedding_model(auth_client, user):
    payload = auth_client.get("/api/v1/models").json()

    assert payload["code"] == 0
    assert len(payload["data"]) == 1
    model = payload["data"][0]
    assert model["name"] == "all-MiniLM-L6-v2"
    assert model["model_type"] == "embedding"
    assert model["provider_name"] == "Builtin"
    assert model["instance_name"] == "default"
    assert model["tenant_id"] == user.id
    assert len(model["model_id"]) == 32


def test_models_filtered_by_type(auth_client):
    add_zhipu(auth_client)

    chat = auth_client.get("/api/v1/models", {"type": "chat"}).json()["data"]
    embedding = auth_client.get("/api/v1/models", {"type": "embedding"}).json()["data"]

    assert [m["name"] for m in chat] == ["glm-4-flash"]
    assert sorted(m["name"] for m in embedding) == ["all-MiniLM-L6-v2", "embedding-3"]


def test_models_unknown_type(auth_client):
    payload = auth_client.get("/api/v1/models", {"type": "video"}).json()

    assert payload["code"] == 101
    assert "Invalid model type 'video'" in payload["message"]


def test_instance_api_key_stored_not_returned_or_logged(auth_client, caplog):
    with caplog.at_level(logging.DEBUG):
        add_zhipu(auth_client)
        listed = auth_client.get("/api/v1/models").content.decode()

    assert ProviderInstance.objects.get(name="CI").api_key == SECRET
    assert ProviderInstance.objects.get(name="CI").base_url == "https://open.bigmodel.cn/api/paas/v4"
    assert SECRET not in listed
    assert SECRET not in caplog.text


def test_add_provider_twice(auth_client):
    auth_client.put("/api/v1/providers", {"provider_name": "OpenAI"}, format="json")

    payload = auth_client.put("/api/v1/providers", {"provider_name": "OpenAI"}, format="json").json()

    assert payload["code"] == 102
    assert "already exist" in payload["message"]


def test_add_builtin_provider_already_exists(auth_client):
    payload = auth_client.put("/api/v1/providers", {"provider_name": "Builtin"}, format="json").json()

    assert payload["code"] == 102
    assert "already exist" in payload["message"]


@pytest.mark.parametrize("body", [{}, {"provider_name": ""}, {"provider_name": 3}])
def test_add_provider_requires_name(auth_client, body):
    payload = auth_client.put("/api/v1/providers", body, format="json").json()

    assert payload == {"code": 101, "message": "provider_name is required"}


def test_add_unsupported_provider(auth_client):
    payload = auth_client.put("/api/v1/providers", {"provider_name": "Nowhere"}, format="json").json()

    assert payload["code"] == 102
    assert payload["message"].startswith("Provider Nowhere is not supported. Supported providers: Builtin")


def test_add_instance_rules(auth_client):
    missing_provider = auth_client.post("/api/v1/providers/OpenAI/instances", INSTANCE_BODY, format="json").json()
    builtin = auth_client.post("/api/v1/providers/Builtin/instances", INSTANCE_BODY, format="json").json()
    add_zhipu(auth_client)
    again = auth_client.post("/api/v1/providers/ZHIPU-AI/instances", INSTANCE_BODY, format="json").json()
    default = auth_client.post(
        "/api/v1/providers/ZHIPU-AI/instances", INSTANCE_BODY | {"instance_name": "default"}, format="json"
    ).json()

    assert missing_provider["code"] == 102
    assert "Provider OpenAI not found" in missing_provider["message"]
    assert builtin["code"] == 102
    assert "takes no instances" in builtin["message"]
    assert again["code"] == 102
    assert "already exist" in again["message"]
    assert default["code"] == 102
    assert "cannot be 'default'" in default["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field: <instance_name> - Message: <Field required"),
        ({"instance_name": "x", "model_info": [{"model_type": ["video"], "model_name": "m"}]}, "model_info.0.model_type"),
        ({"instance_name": "x", "model_info": [{"model_type": "chat", "model_name": ""}]}, "String should have at least 1 character"),
    ],
)
def test_add_instance_rejects_bad_body(auth_client, body, message):
    auth_client.put("/api/v1/providers", {"provider_name": "OpenAI"}, format="json")

    payload = auth_client.post("/api/v1/providers/OpenAI/instances", body, format="json").json()

    assert payload["code"] == 101
    assert message in payload["message"]


def test_set_default_models(auth_client, user, create_dataset):
    add_zhipu(auth_client)
    body = {"model_provider": "ZHIPU-AI", "model_instance": "CI", "model_type": "chat", "model_name": "glm-4-flash"}

    chat = auth_client.patch("/api/v1/models/default", body, format="json").json()
    embedding_id = next(
        m["model_id"] for m in auth_client.get("/api/v1/models?type=embedding").json()["data"] if m["name"] == "embedding-3"
    )
    embedding = auth_client.patch("/api/v1/models/default", {"model_id": embedding_id, "model_type": "embedding"}, format="json").json()
    defaults = auth_client.get("/api/v1/models/default").json()["data"]
    dataset = create_dataset(name="zhipu")

    assert chat == {"code": 0}
    assert embedding == {"code": 0}
    tenant = Tenant.objects.get(pk=user.id)
    assert tenant.llm_id == "glm-4-flash@CI@ZHIPU-AI"
    assert tenant.embd_id == "embedding-3@CI@ZHIPU-AI"
    assert {d["model_type"]: d["model_reference"] for d in defaults} == {
        "chat": "glm-4-flash@CI@ZHIPU-AI",
        "embedding": "embedding-3@CI@ZHIPU-AI",
    }
    assert dataset["embedding_model"] == "embedding-3@CI@ZHIPU-AI"
    assert dataset["parser_config"]["llm_id"] == "glm-4-flash@CI@ZHIPU-AI"


def test_two_part_reference_uses_single_instance(auth_client, create_dataset):
    add_zhipu(auth_client)

    dataset = create_dataset(embedding_model="embedding-3@ZHIPU-AI")

    assert dataset["embedding_model"] == "embedding-3@ZHIPU-AI"


def test_default_embedding_model_of_new_tenant(auth_client):
    defaults = auth_client.get("/api/v1/models/default").json()["data"]

    assert defaults == [
        {
            "model_type": "embedding",
            "model_name": "all-MiniLM-L6-v2",
            "model_instance": "default",
            "model_provider": "Builtin",
            "model_reference": "all-MiniLM-L6-v2@Builtin",
        }
    ]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"model_name": "x"}, 101, "Field: <model_type> - Message: <Field required"),
        ({"model_type": "chat"}, 101, "Give model_id, or model_provider and model_name"),
        ({"model_type": "chat", "model_provider": "Builtin", "model_name": "nope"}, 102, "Model nope@Builtin not found for model chat"),
    ],
)
def test_set_default_model_rejects(auth_client, body, code, message):
    payload = auth_client.patch("/api/v1/models/default", body, format="json").json()

    assert payload["code"] == code
    assert message in payload["message"]
