"""POST /api/v1/datasets: defaults, name de-duplication and every rejected input."""

import pytest

from knowledgebases.models import Dataset
from knowledgebases.parser_config import DEFAULT_RAPTOR_PROMPT

pytestmark = pytest.mark.django_db

URL = "/api/v1/datasets"
# The naive chunk method's configuration of a dataset created without parser_config.
EXPECTED_DEFAULT_PARSER_CONFIG = {
    "layout_recognize": "DeepDOC",
    "chunk_token_num": 512,
    "delimiter": "\n",
    "auto_keywords": 0,
    "auto_questions": 0,
    "html4excel": False,
    "topn_tags": 3,
    "raptor": {
        "use_raptor": True,
        "prompt": DEFAULT_RAPTOR_PROMPT,
        "max_token": 512,
        "clustering_threshold": 0.3,
        "clustering_ratio": 0.5,
        "max_cluster": 64,
        "random_seed": 0,
    },
    "graphrag": {
        "use_graphrag": True,
        "entity_types": ["organization", "person", "geo", "event", "category"],
        "method": "light",
        "batch_chunk_token_size": 4096,
        "retry_attempts": 2,
        "retry_backoff_seconds": 2.0,
        "retry_backoff_max_seconds": 60.0,
        "build_subgraph_timeout_per_chunk_seconds": 300,
        "build_subgraph_min_timeout_seconds": 600,
        "merge_timeout_seconds": 180,
        "resolution_timeout_seconds": 1800,
        "community_timeout_seconds": 1800,
        "lock_acquire_timeout_seconds": 600,
    },
    "parent_child": {"use_parent_child": False, "children_delimiter": "\n"},
    "image_context_size": 0,
    "table_context_size": 0,
    "children_delimiter": "",
    "llm_id": "",
}
PNG_AVATAR = "data:image/png;base64,iVBORw0KGgo="


def post(client, body):
    response = client.post(URL, body, format="json")
    assert response.status_code == 200
    return response.json()


def test_create_minimal_dataset_defaults(auth_client, user):
    payload = post(auth_client, {"name": "Handbook"})

    assert payload["code"] == 0
    assert "message" not in payload
    data = payload["data"]
    assert data["name"] == "Handbook"
    assert data["tenant_id"] == user.id
    assert data["created_by"] == user.id
    assert data["embedding_model"] == "all-MiniLM-L6-v2@Builtin"
    assert len(data["tenant_embd_id"]) == 32
    assert data["permission"] == "me"
    assert data["chunk_method"] == "naive"
    assert data["document_count"] == 0
    assert data["chunk_count"] == 0
    assert data["token_num"] == 0
    assert data["pagerank"] == 0
    assert data["language"] == "English"
    assert data["similarity_threshold"] == 0.2
    assert data["vector_similarity_weight"] == 0.7
    assert data["status"] == "1"
    assert data["avatar"] is None
    assert data["description"] is None
    assert data["create_date"].endswith(" GMT")
    assert data["parser_config"] == EXPECTED_DEFAULT_PARSER_CONFIG
    assert Dataset.objects.filter(pk=data["id"], tenant_id=user.id).exists()


def test_create_sdk_style_body_with_nulls(auth_client):
    body = {"name": "sdk", "avatar": None, "description": None, "embedding_model": None, "permission": "me", "chunk_method": "naive"}

    payload = post(auth_client, body)

    assert payload["code"] == 0, payload
    assert payload["data"]["parser_config"] == EXPECTED_DEFAULT_PARSER_CONFIG


@pytest.mark.parametrize("parser_config", [{}, None])
def test_create_empty_parser_config_means_defaults(auth_client, parser_config):
    payload = post(auth_client, {"name": "empty", "parser_config": parser_config})

    assert payload["data"]["parser_config"] == EXPECTED_DEFAULT_PARSER_CONFIG


def test_create_with_parser_config_dumps_all_keys(auth_client):
    payload = post(auth_client, {"name": "custom", "parser_config": {"chunk_token_num": 1024}})

    config = payload["data"]["parser_config"]
    assert config["chunk_token_num"] == 1024
    assert config["raptor"]["use_raptor"] is False
    assert config["graphrag"]["use_graphrag"] is False
    assert config["topn_tags"] == 1
    assert config["filename_embd_weight"] == 0.1
    assert config["task_page_size"] is None
    assert config["pages"] is None
    assert config["ext"] == {}
    assert config["children_delimiter"] == ""
    assert config["image_context_size"] == 0


def test_create_parent_child_copies_delimiter(auth_client):
    body = {"name": "pc", "parser_config": {"parent_child": {"use_parent_child": True, "children_delimiter": "|"}}}

    config = post(auth_client, body)["data"]["parser_config"]

    assert config["children_delimiter"] == "|"


def test_create_raptor_legacy_keys_dropped(auth_client):
    body = {"name": "legacy", "parser_config": {"raptor": {"use_raptor": True, "threshold": 0.1, "max_token": 256}}}

    config = post(auth_client, body)["data"]["parser_config"]

    assert "threshold" not in config["raptor"]
    assert config["raptor"]["max_token"] == 512


@pytest.mark.parametrize("method", ["qa", "manual", "paper", "book", "laws", "presentation"])
def test_create_methods_without_indexes(auth_client, method):
    config = post(auth_client, {"name": method, "chunk_method": method})["data"]["parser_config"]

    assert config == {
        "table_context_size": 0,
        "image_context_size": 0,
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
        "llm_id": "",
    }


@pytest.mark.parametrize("method", ["tag", "resume", "table", "one", "email", "picture"])
def test_create_methods_with_base_keys_only(auth_client, method):
    config = post(auth_client, {"name": method, "chunk_method": method})["data"]["parser_config"]

    assert config == {"table_context_size": 0, "image_context_size": 0, "llm_id": ""}


def test_create_duplicate_names_get_suffix(auth_client):
    first = post(auth_client, {"name": "CaseInsensitive".upper()})["data"]
    second = post(auth_client, {"name": "caseinsensitive"})["data"]
    third = post(auth_client, {"name": "caseinsensitive"})["data"]

    assert first["name"] == "CASEINSENSITIVE"
    assert second["name"] == "caseinsensitive(1)"
    assert third["name"] == "caseinsensitive(2)"


def test_create_name_is_stripped(auth_client):
    assert post(auth_client, {"name": "  padded  "})["data"]["name"] == "padded"


def test_create_name_of_128_characters(auth_client):
    assert post(auth_client, {"name": "a" * 128})["data"]["name"] == "a" * 128


def test_create_same_name_in_other_tenant(auth_client, other_client):
    post(auth_client, {"name": "shared"})

    assert post(other_client, {"name": "shared"})["data"]["name"] == "shared"


def test_create_avatar_and_description(auth_client):
    data = post(auth_client, {"name": "pic", "avatar": PNG_AVATAR, "description": "about"})["data"]

    assert data["avatar"] == PNG_AVATAR
    assert data["description"] == "about"


def test_create_team_permission(auth_client):
    assert post(auth_client, {"name": "team", "permission": "team"})["data"]["permission"] == "team"


@pytest.mark.parametrize(
    "reference", ["all-MiniLM-L6-v2@Builtin", "all-MiniLM-L6-v2@default@Builtin", "  all-MiniLM-L6-v2@Builtin  "]
)
def test_create_builtin_embedding_model(auth_client, reference):
    data = post(auth_client, {"name": "embedded", "embedding_model": reference})["data"]

    assert data["embedding_model"] == reference.strip()


def test_create_embedding_model_by_tenant_model_id(auth_client):
    model_id = auth_client.get("/api/v1/models?type=embedding").json()["data"][0]["model_id"]

    data = post(auth_client, {"name": "by id", "embedding_model": model_id})["data"]

    assert data["embedding_model"] == model_id
    assert data["tenant_embd_id"] == model_id


def test_create_sets_llm_id_from_tenant(auth_client, user):
    user.tenants.model.objects.filter(pk=user.id).update(llm_id="glm-4-flash@CI@ZHIPU-AI")

    config = post(auth_client, {"name": "llm"})["data"]["parser_config"]

    assert config["llm_id"] == "glm-4-flash@CI@ZHIPU-AI"


def test_create_pipeline_mode(auth_client):
    body = {"name": "pipe", "parse_type": 2, "pipeline_id": "A" * 32}

    data = post(auth_client, body)["data"]

    assert data["pipeline_id"] == "a" * 32


def test_create_ext_sets_language(auth_client):
    assert post(auth_client, {"name": "de", "ext": {"language": "German"}})["data"]["language"] == "German"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field: <name> - Message: <Field required"),
        ({"name": ""}, "String should have at least 1 character"),
        ({"name": "   "}, "String should have at least 1 character"),
        ({"name": "a" * 129}, "String should have at most 128 characters"),
        ({"name": 0}, "Input should be a valid string"),
        ({"name": None}, "Input should be a valid string"),
        ({"name": "x", "unknown": 1}, "Field: <unknown> - Message: <Extra inputs are not permitted"),
        ({"name": "x", "avatar": "a" * 65536}, "String should have at most 65535 characters"),
        ({"name": "x", "avatar": "data:image/png;base64"}, "Missing MIME prefix. Expected format: data:<mime>;base64,<data>"),
        ({"name": "x", "avatar": "image/png;base64,abc"}, "Invalid MIME prefix format. Must start with 'data:'"),
        ({"name": "x", "avatar": "data:image/gif;base64,abc"}, "Unsupported MIME type. Allowed: ['image/jpeg', 'image/png']"),
        ({"name": "x", "description": "a" * 65536}, "String should have at most 65535 characters"),
        ({"name": "x", "embedding_model": "a" * 256}, "String should have at most 255 characters"),
        ({"name": "x", "embedding_model": "no-provider"}, "Embedding model identifier must follow <model_name>@<provider> format"),
        ({"name": "x", "embedding_model": "@Builtin"}, "Both model_name and provider must be non-empty strings"),
        ({"name": "x", "embedding_model": "model@"}, "Both model_name and provider must be non-empty strings"),
        ({"name": "x", "embedding_model": " @ x"}, "Both model_name and provider must be non-empty strings"),
        ({"name": "x", "embedding_model": 1}, "Input should be a valid string"),
        ({"name": "x", "permission": "ME"}, "Input should be 'me' or 'team'"),
        ({"name": "x", "permission": " me "}, "Input should be 'me' or 'team'"),
        ({"name": "x", "permission": ""}, "Input should be 'me' or 'team'"),
        ({"name": "x", "chunk_method": ""}, "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', 'table', 'tag' or 'resume'"),
        ({"name": "x", "chunk_method": "unknown"}, "Input should be 'naive', 'book'"),
        ({"name": "x", "chunk_method": []}, "Input should be 'naive', 'book'"),
        ({"name": "x", "parse_type": 1}, "parser_id omitted → required fields missing: pipeline_id"),
        ({"name": "x", "pipeline_id": "a" * 32}, "parser_id omitted → required fields missing: parse_type"),
        ({"name": "x", "chunk_method": "naive", "parse_type": 2}, "parser_id provided → disallowed fields present: parse_type"),
        ({"name": "x", "parse_type": 2, "pipeline_id": "abc"}, "pipeline_id must be 32 hex characters"),
        ({"name": "x", "parse_type": 2, "pipeline_id": "g" * 32}, "pipeline_id must be hexadecimal"),
        ({"name": "x", "parse_type": 65, "pipeline_id": "a" * 32}, "Input should be less than or equal to 64"),
        ({"name": "x", "ext": {"tenant_id": "abc"}}, "ext may only set language, similarity_threshold, vector_similarity_weight"),
    ],
)
def test_create_rejects_bad_field(auth_client, body, message):
    payload = post(auth_client, body)

    assert payload["code"] == 101
    assert message in payload["message"]
    assert set(payload) == {"code", "message"}
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    ("parser_config", "message"),
    [
        ({"auto_keywords": -1}, "Input should be greater than or equal to 0"),
        ({"auto_keywords": 33}, "Input should be less than or equal to 32"),
        ({"auto_keywords": 3.14}, "Input should be a valid integer"),
        ({"auto_keywords": "1"}, "Input should be a valid integer"),
        ({"auto_questions": 11}, "Input should be less than or equal to 10"),
        ({"chunk_token_num": 0}, "Input should be greater than or equal to 1"),
        ({"chunk_token_num": 2049}, "Input should be less than or equal to 2048"),
        ({"delimiter": ""}, "String should have at least 1 character"),
        ({"html4excel": "true"}, "Input should be a valid boolean"),
        ({"layout_recognize": 1}, "Input should be a valid string"),
        ({"tag_kb_ids": "id"}, "Input should be a valid list"),
        ({"topn_tags": 0}, "Input should be greater than or equal to 1"),
        ({"topn_tags": 11}, "Input should be less than or equal to 10"),
        ({"filename_embd_weight": 1.1}, "Input should be less than or equal to 1"),
        ({"filename_embd_weight": "x"}, "Input should be a valid number"),
        ({"task_page_size": 0}, "Input should be greater than or equal to 1"),
        ({"pages": [["a"]]}, "Input should be a valid integer"),
        ({"raptor": {"max_token": 2049}}, "Input should be less than or equal to 2048"),
        ({"raptor": {"prompt": "  "}}, "String should have at least 1 character"),
        ({"raptor": {"clustering_threshold": 1.5}}, "Input should be less than or equal to 1"),
        ({"raptor": {"max_cluster": 0}}, "Input should be greater than or equal to 1"),
        ({"raptor": {"random_seed": -1}}, "Input should be greater than or equal to 0"),
        ({"raptor": {"scope": "all"}}, "Input should be 'file' or 'dataset'"),
        ({"graphrag": {"use_graphrag": "yes"}}, "Input should be a valid boolean"),
        ({"graphrag": {"method": "heavy"}}, "Input should be 'light', 'general' or 'ner'"),
        ({"graphrag": {"entity_types": "person"}}, "Input should be a valid list"),
        ({"graphrag": {"batch_chunk_token_size": 100}}, "Input should be greater than or equal to 512"),
        ({"parent_child": {"children_delimiter": ""}}, "String should have at least 1 character"),
        ({"table_column_mode": "both"}, "Input should be 'auto' or 'manual'"),
        ({"unknown_key": 1}, "Field: <parser_config.unknown_key> - Message: <Extra inputs are not permitted"),
        ({"delimiter": "a" * 70000}, "Parser config exceeds size limit (max 65,535 characters). Current size:"),
    ],
)
def test_create_rejects_bad_parser_config(auth_client, parser_config, message):
    payload = post(auth_client, {"name": "x", "parser_config": parser_config})

    assert payload["code"] == 101
    assert message in payload["message"]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("BAAI/bge-small-en-v1.5@Builtin", "Model BAAI/bge-small-en-v1.5@Builtin not found for model embedding"),
        ("embedding-3@unknown", "Provider unknown not found for model embedding-3@unknown."),
        ("all-MiniLM-L6-v2@CI@Builtin", "Instance CI not found for model all-MiniLM-L6-v2@CI@Builtin."),
        ("f" * 32, "Model ffffffffffffffffffffffffffffffff not found for model embedding"),
    ],
)
def test_create_unknown_embedding_model(auth_client, reference, message):
    payload = post(auth_client, {"name": "x", "embedding_model": reference})

    assert payload == {"code": 102, "message": message}
    assert not Dataset.objects.exists()


def test_create_wrong_content_type(auth_client):
    response = auth_client.post(URL, "name=x", content_type="text/xml")

    assert response.json() == {"code": 101, "message": "Unsupported content type: Expected application/json, got text/xml"}


def test_create_malformed_json(auth_client):
    response = auth_client.post(URL, "{bad", content_type="application/json")

    assert response.json() == {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding"}


def test_create_non_object_body(auth_client):
    response = auth_client.post(URL, '"text"', content_type="application/json")

    assert response.json() == {"code": 101, "message": "Invalid request payload: expected object, got str"}


def test_create_without_credentials(api_client):
    response = api_client.post(URL, {"name": "x"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == 401
