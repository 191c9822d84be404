"""Every API route responds to malformed bodies with an envelope error, never an HTTP 500.

The test walks all routes under /api/v1, fills id groups with the caller's own objects (so the
request reaches validation rather than stopping at "not found"), and sends each handled method a
set of bodies a confused client might send.
"""

import json
import re

import pytest

from documents.models import Document
from knowledgebases import services as dataset_services
from tasks.models import Task
from tests.routes import walk_patterns

API_PREFIX = "api/v1/"
JUNK_BODIES = [
    None,
    "null",
    "[]",
    '"text"',
    "123",
    "{bad json",
    json.dumps({"name": None, "ids": "x", "document_ids": {"a": 1}, "page": "many", "question": 5}),
    json.dumps({"name": ["list"], "dataset_ids": [None], "chunk_method": 7, "parser_config": "cfg"}),
    json.dumps({"name": "x" * 5000, "content": "", "size": -1, "top_k": "all", "similarity_threshold": "high"}),
]
JUNK_QUERIES = [
    {"page": "many", "page_size": "-5", "orderby": "drop", "desc": "maybe"},
    {"page_size": "100000", "id": "", "name": "\x00", "keywords": "%", "type": "nonsense"},
    {"ids": ["a", "a"], "run": ["7"], "create_time_from": "yesterday", "available": "perhaps"},
]
# RAGFlow reports some bad input as code 100 with the repr of a ValueError or AttributeError, and
# clients match those texts. The exception types below only ever mean a bug in the server.
BUG_EXCEPTIONS = re.compile(
    r"\b(KeyError|IndexError|NameError|UnboundLocalError|IntegrityError|DataError|ProgrammingError|"
    r"OperationalError|InternalError|RecursionError|ZeroDivisionError|AssertionError|DoesNotExist)\("
)
# Routes whose response is not the JSON envelope.
NON_ENVELOPE = {"system-ping", "api-schema", "api-docs", "system-healthz"}


def _path(pattern: str, objects: dict) -> str:
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: objects.get(match.group(1), "unknown"), pattern)
    return "/" + path.replace("/?", "/").replace("^", "").replace("$", "")


@pytest.mark.django_db
def test_junk_bodies_never_500(user, auth_client):
    dataset = dataset_services.create_dataset(tenant_id=user.id, user=user, name="junk")
    document = Document.objects.create(
        dataset=dataset, created_by=user, name="junk.txt", type="doc", suffix="txt", chunk_method="naive"
    )
    task = Task.objects.create(dataset=dataset, document=document)
    objects = {
        "dataset_id": dataset.id,
        "document_id": document.id,
        "task_id": task.id,
        "chunk_id": "0123456789abcdef",
        "token": "ragflow-unknown",
        "provider_name": "OpenAI-API-Compatible",
    }
    failures = []
    sent = 0
    for pattern, entry in walk_patterns():
        if not pattern.startswith(API_PREFIX) or entry.name in NON_ENVELOPE:
            continue
        view_class = entry.callback.view_class
        methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        path = _path(pattern, objects)
        for method in methods:
            cases = JUNK_QUERIES if method == "get" else JUNK_BODIES
            for body in cases:
                if method == "get":
                    kwargs = {"data": body}
                else:
                    kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
                response = getattr(auth_client, method)(path, **kwargs)
                sent += 1
                label = f"{method.upper()} {path} body={body!r:.60}"
                if response.status_code >= 500:
                    failures.append(f"{label}: HTTP {response.status_code}")
                    continue
                if response.get("Content-Disposition", "").startswith("attachment"):
                    continue
                try:
                    payload = response.json()
                except ValueError:
                    failures.append(f"{label}: not JSON")
                    continue
                if not isinstance(payload, dict) or "code" not in payload:
                    failures.append(f"{label}: no code in {payload!r:.100}")
                elif payload["code"] == 100 and BUG_EXCEPTIONS.search(str(payload.get("message"))):
                    failures.append(f"{label}: unexpected exception {payload['message'][:120]}")

    assert sent > 300, "the walk over the routes found fewer routes than the API has"
    assert failures == [], "\n".join(failures[:40])
