"""Tenant isolation over every id-bearing API route.

A key of tenant A sends every method of each route that takes an id to tenant B's ids. Each
request must fail with the documented not-found or no-authorization error, and B's rows must be
unchanged afterwards. A route with an id group and no row in ``ROWS`` fails the test, so a new
route cannot skip the check.
"""

import re
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import APIToken
from knowledgebases import services as dataset_services
from documents.models import Chunk, Document
from tasks.models import Task
from knowledgebases.models import Dataset, ModelProvider, ProviderInstance, TenantModel
from tests.routes import walk_patterns

API_PREFIX = "api/v1/"
IGNORED_METHODS = {"options", "head"}


@dataclass(frozen=True)
class Call:
    method: str
    body: dict | None = None
    expected_code: int = 102
    # Text the error message must contain; ``{tenant_a}`` and the id groups are substituted.
    message: str = ""


@dataclass(frozen=True)
class Row:
    calls: tuple[Call, ...]
    # Extra keyword arguments of reverse() for groups that are not tenant B's objects.
    fixed_kwargs: dict = field(default_factory=dict)


LACKS_PERMISSION = "User '{tenant_a}' lacks permission for dataset '{dataset_id}'"
NOT_OWN_DATASET = "You don't own the dataset {dataset_id}. "

# One row per named id-bearing route: the calls tenant A makes on tenant B's ids.
ROWS: dict[str, Row] = {
    "dataset-detail": Row(
        calls=(
            Call("get", message=LACKS_PERMISSION),
            Call("put", {"name": "taken over"}, message=LACKS_PERMISSION),
        )
    ),
    "dataset-documents": Row(
        calls=(
            Call("post", expected_code=109, message="no authorization"),
            Call("get", message=NOT_OWN_DATASET),
            Call("delete", {"delete_all": True}, message=NOT_OWN_DATASET),
        )
    ),
    "dataset-document": Row(
        calls=(
            Call("get", message="document not found"),
            Call("patch", {"name": "taken over.txt"}, message="you don't own the dataset"),
            Call("put", {"name": "taken over.txt"}, message="you don't own the dataset"),
        )
    ),
    "document-chunks": Row(
        calls=(
            Call("get", message=NOT_OWN_DATASET.rstrip()),
            Call("post", {"content": "taken over"}, message=NOT_OWN_DATASET.rstrip()),
            Call("delete", {"delete_all": True}, message=NOT_OWN_DATASET.rstrip()),
            Call("patch", {"chunk_ids": ["{chunk_id}"], "available": False}, message=NOT_OWN_DATASET.rstrip()),
        )
    ),
    "document-chunk": Row(
        calls=(
            Call("get", message=NOT_OWN_DATASET.rstrip()),
            Call("patch", {"content": "taken over"}, message=NOT_OWN_DATASET.rstrip()),
            Call("put", {"content": "taken over"}, message=NOT_OWN_DATASET.rstrip()),
        )
    ),
    # RAGFlow returns success when a revoked key is unknown, so the test checks that B's key survives.
    "dataset-parse": Row(
        calls=(
            Call("post", {"document_ids": ["{document_id}"]}, message=NOT_OWN_DATASET.rstrip()),
            Call("delete", {"document_ids": ["{document_id}"]}, message=NOT_OWN_DATASET.rstrip()),
        )
    ),
    "documents-parse": Row(calls=(Call("post", {"document_ids": ["{document_id}"]}, message=NOT_OWN_DATASET.rstrip()),)),
    "documents-stop": Row(calls=(Call("post", {"document_ids": ["{document_id}"]}, message=NOT_OWN_DATASET.rstrip()),)),
    # RAGFlow answers success for a task it cannot find; the snapshot proves B's task is untouched.
    "task-cancel": Row(calls=(Call("post", expected_code=0),)),
    "task-detail": Row(calls=(Call("patch", {"action": "stop"}, expected_code=0),)),
    "api-token-detail": Row(calls=(Call("delete", expected_code=0),)),
    # Index routes check the dataset before the ``type`` query, so a bare URL is enough.
    "dataset-index": Row(
        calls=(
            Call("post", message="no authorization"),
            Call("get", message="no authorization"),
            Call("delete", message="no authorization"),
        )
    ),
    "dataset-graph": Row(
        calls=(Call("get", expected_code=109, message="no authorization"), Call("delete", message="no authorization"))
    ),
    "dataset-knowledge-graph": Row(
        calls=(Call("get", expected_code=109, message="no authorization"), Call("delete", message="no authorization"))
    ),
    "dataset-raptor": Row(calls=(Call("delete", message="no authorization"),)),
    "dataset-run-graphrag": Row(calls=(Call("post", message="no authorization"),)),
    "dataset-trace-graphrag": Row(calls=(Call("get", message="no authorization"),)),
    "dataset-run-raptor": Row(calls=(Call("post", message="no authorization"),)),
    "dataset-trace-raptor": Row(calls=(Call("get", message="no authorization"),)),
    # Provider names are per tenant: A has not added B's provider, so A's request finds none.
    "provider-instance-list": Row(
        calls=(
            Call(
                "post",
                {"instance_name": "stolen", "api_key": "k", "model_info": []},
                message="Provider ZHIPU-AI not found",
            ),
        )
    ),
}


def _tenant_b_objects(owner) -> dict:
    """Create tenant B's objects and return them keyed by the URL group names that address them."""
    _, key = account_services.create_api_key(tenant_id=owner.id, created_by=owner)
    dataset = dataset_services.create_dataset(tenant_id=owner.id, user=owner, name="tenant B data", permission="team")
    document = Document.objects.create(
        dataset=dataset, created_by=owner, name="tenant B.txt", type="doc", suffix="txt", chunk_method="naive"
    )
    task = Task.objects.create(dataset=dataset, document=document)
    chunk = Chunk.objects.create(id="b0b0b0b0b0b0b0b0", dataset=dataset, document=document, content="tenant B text")
    dataset_services.add_provider(tenant_id=owner.id, provider_name="ZHIPU-AI")
    dataset_services.add_provider_instance(tenant_id=owner.id, provider_name="ZHIPU-AI", instance_name="CI", api_key="b-key")
    return {
        "dataset_id": dataset.pk,
        "document_id": document.pk,
        "task_id": task.pk,
        "chunk_id": chunk.pk,
        "token": key,
        "provider_name": "ZHIPU-AI",
    }


def _snapshot(tenant_id: str) -> dict:
    """Return every row of tenant B that an API request could change."""
    return {
        "datasets": list(Dataset.objects.filter(tenant_id=tenant_id).order_by("pk").values()),
        "documents": list(Document.objects.filter(dataset__tenant_id=tenant_id).order_by("pk").values()),
        "tasks": list(Task.objects.filter(dataset__tenant_id=tenant_id).order_by("pk").values()),
        "chunks": list(
            Chunk.objects.filter(dataset__tenant_id=tenant_id).order_by("pk").values("pk", "content", "available", "embedding_dimension")
        ),
        "providers": list(ModelProvider.objects.filter(tenant_id=tenant_id).order_by("pk").values()),
        "instances": list(ProviderInstance.objects.filter(provider__tenant_id=tenant_id).order_by("pk").values()),
        "models": list(TenantModel.objects.filter(tenant_id=tenant_id).order_by("pk").values()),
        "api_tokens": list(
            APIToken.objects.filter(tenant_id=tenant_id).order_by("pk").values("pk", "token_hash", "prefix", "beta")
        ),
    }


def id_routes() -> dict[str, URLPattern]:
    """Return the named API routes whose path contains a named group, keyed by route name."""
    routes = {}
    for pattern, entry in walk_patterns():
        if pattern.startswith(API_PREFIX) and re.search(r"\(\?P<\w+>", pattern):
            assert entry.name, f"Route {pattern} has an id group but no name; name it and add a row to ROWS"
            routes[entry.name] = entry
    return routes


def handled_methods(entry: URLPattern) -> set[str]:
    view_class = entry.callback.view_class
    return {method for method in view_class.http_method_names if hasattr(view_class, method)} - IGNORED_METHODS


def _substitute(body, objects: dict):
    """Fill ``{group}`` placeholders in a request body with tenant B's ids."""
    if isinstance(body, dict):
        return {key: _substitute(value, objects) for key, value in body.items()}
    if isinstance(body, list):
        return [_substitute(item, objects) for item in body]
    if isinstance(body, str):
        return body.format(**objects)
    return body


def test_every_id_route_has_a_row():
    missing = sorted(set(id_routes()) - set(ROWS))

    assert missing == [], f"Add rows to ROWS in tests/test_tenancy.py for: {missing}"


def test_every_row_covers_each_method():
    routes = id_routes()
    for name, row in ROWS.items():
        assert name in routes, f"ROWS has {name}, which is not a route with an id group"
        covered = {call.method for call in row.calls}

        assert covered == handled_methods(routes[name]), name


@pytest.mark.django_db
def test_foreign_ids_are_rejected(make_user):
    tenant_a = make_user(nickname="tenant a")
    tenant_b = make_user(nickname="tenant b")
    _, key_a = account_services.create_api_key(tenant_id=tenant_a.id, created_by=tenant_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key_a}")
    objects = _tenant_b_objects(tenant_b)
    before = _snapshot(tenant_b.id)
    routes = id_routes()

    for name, row in ROWS.items():
        groups = re.findall(r"\(\?P<(\w+)>", str(routes[name].pattern))
        kwargs = {group: objects[group] for group in groups if group not in row.fixed_kwargs} | row.fixed_kwargs
        url = reverse(name, kwargs=kwargs)
        for call in row.calls:
            body = _substitute(call.body, objects)
            response = getattr(client, call.method)(url, body, format="json")
            payload = response.json()
            context = f"{call.method.upper()} {url}: {payload}"

            assert response.status_code == 200, context
            assert payload["code"] == call.expected_code, context
            if call.message:
                assert call.message.format(tenant_a=tenant_a.id, **objects) in payload["message"], context

    assert _snapshot(tenant_b.id) == before
