"""Index routes over HTTP: start, trace and delete, their errors, and the deprecated aliases."""

import pytest

from documents.models import Document
from knowledgebases.models import Dataset
from tasks.choices import TaskStatus, TaskType
from tasks.models import Task
from tests.conftest import client_for
from tests.knowledgebases.indexes.conftest import add_document

pytestmark = pytest.mark.django_db

TASK_KEYS = {
    "id", "doc_id", "from_page", "to_page", "task_type", "priority", "begin_at", "process_duration", "progress",
    "progress_msg", "retry_count", "digest", "chunk_ids", "create_time", "create_date", "update_time", "update_date",
}


@pytest.fixture
def parsed_dataset(index_dataset):
    dataset = index_dataset()
    add_document(dataset, "a.txt", ["Ada Lovelace wrote notes."])
    return dataset


def test_start_graph_creates_task(auth_client, parsed_dataset):
    body = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()

    assert set(body) == {"code", "data"}
    task_id = body["data"]["task_id"]
    assert len(task_id) == 32
    task = Task.objects.get(pk=task_id)
    assert task.task_type == TaskType.GRAPHRAG
    assert task.document_id is None
    assert task.status == TaskStatus.QUEUED
    assert task.progress_msg.endswith(" created task graphrag")
    assert Dataset.objects.get(pk=parsed_dataset.id).graphrag_task_id == task_id
    dataset = auth_client.get(f"/api/v1/datasets/{parsed_dataset.id}").json()["data"]
    assert dataset["graphrag_task_id"] == task_id


def test_trace_returns_task_dict(auth_client, parsed_dataset):
    task_id = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=RAPTOR").json()["data"]["task_id"]

    body = auth_client.get(f"/api/v1/datasets/{parsed_dataset.id}/index?type=raptor").json()

    assert body["code"] == 0
    trace = body["data"]
    assert set(trace) == TASK_KEYS
    assert trace["id"] == task_id
    assert trace["doc_id"] == "graph_raptor_x"
    assert trace["from_page"] == trace["to_page"] == 100000000
    assert trace["task_type"] == "raptor"
    assert trace["progress"] == 0
    assert trace["progress_msg"].endswith("created task raptor")


def test_trace_without_task_is_empty(auth_client, parsed_dataset):
    assert auth_client.get(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json() == {"code": 0, "data": {}}


def test_second_start_while_running_is_rejected(auth_client, parsed_dataset):
    task_id = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()["data"]["task_id"]

    body = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()

    assert body == {"code": 102, "message": f"Task {task_id} in progress with status 0. A Graph Task is already running."}
    assert Task.objects.filter(dataset_id=parsed_dataset.id, task_type=TaskType.GRAPHRAG).count() == 1


def test_start_after_finished_task_succeeds(auth_client, parsed_dataset):
    first = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()["data"]["task_id"]
    Task.objects.filter(pk=first).update(status=TaskStatus.DONE, progress=1)

    body = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()

    assert body["code"] == 0
    assert body["data"]["task_id"] != first


@pytest.mark.parametrize(
    ("method", "query", "expected"),
    [
        ("post", "?type=tree", {"code": 102, "message": "Invalid index type 'tree'. Must be one of ['graph', 'raptor', 'mindmap', 'wiki', 'skill', 'structure_graph', 'structure_mindmap', 'timeline', 'session_graph', 'session_essence', 'structure']"}),
        ("get", "", {"code": 102, "message": "Invalid index type 'None'. Must be one of ['graph', 'raptor', 'mindmap', 'wiki', 'skill', 'structure_graph', 'structure_mindmap', 'timeline', 'session_graph', 'session_essence', 'structure']"}),
        ("delete", "?type=tree", {"code": 101, "message": "Invalid index type 'tree'"}),
        ("post", "?type=mindmap", {"code": 102, "message": "Index type 'mindmap' is not supported by this server; use one of ['graph', 'raptor']."}),
    ],
)
def test_invalid_types_are_rejected(auth_client, parsed_dataset, method, query, expected):
    body = getattr(auth_client, method)(f"/api/v1/datasets/{parsed_dataset.id}/index{query}").json()

    assert body == expected


def test_dataset_without_documents_is_rejected(auth_client, index_dataset):
    dataset = index_dataset()

    body = auth_client.post(f"/api/v1/datasets/{dataset.id}/index?type=graph").json()

    assert body == {"code": 102, "message": f"No documents in Dataset {dataset.id}"}


def test_unparsed_documents_are_rejected(auth_client, index_dataset, user):
    dataset = index_dataset()
    Document.objects.create(dataset=dataset, created_by=user, name="a.txt", type="doc", suffix="txt", chunk_method="naive")

    body = auth_client.post(f"/api/v1/datasets/{dataset.id}/index?type=raptor").json()

    assert body == {
        "code": 102,
        "message": f"No parsed documents in Dataset {dataset.id}; parse documents before building the index.",
    }
    assert not Task.objects.filter(dataset=dataset).exists()


def test_delete_index_removes_task(auth_client, parsed_dataset):
    task_id = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=raptor").json()["data"]["task_id"]

    body = auth_client.delete(f"/api/v1/datasets/{parsed_dataset.id}/raptor").json()

    assert body == {"code": 0, "data": {}}
    assert not Task.objects.filter(pk=task_id).exists()
    assert Dataset.objects.get(pk=parsed_dataset.id).raptor_task_id is None


def test_graph_of_new_dataset_is_empty(auth_client, parsed_dataset):
    for path in ("graph", "knowledge_graph"):
        body = auth_client.get(f"/api/v1/datasets/{parsed_dataset.id}/{path}").json()

        assert body == {"code": 0, "data": {"graph": {}, "mind_map": {}}}


def test_foreign_graph_is_not_authorized(other_client, parsed_dataset):
    body = other_client.get(f"/api/v1/datasets/{parsed_dataset.id}/graph").json()

    assert body == {"code": 109, "message": "no authorization"}


def test_foreign_index_start_is_rejected(other_client, parsed_dataset):
    body = other_client.post(f"/api/v1/datasets/{parsed_dataset.id}/index?type=graph").json()

    assert body == {"code": 102, "message": "no authorization"}
    assert not Task.objects.filter(dataset=parsed_dataset, task_type=TaskType.GRAPHRAG).exists()


def test_team_member_can_start_index(auth_client, user, other_user, index_dataset):
    from accounts.choices import TenantRole
    from accounts.models import Membership
    from knowledgebases import services as dataset_services

    dataset = index_dataset()
    dataset_services.update_dataset(tenant_id=user.id, dataset_id=dataset.id, changes={"permission": "team"})
    add_document(dataset, "a.txt", ["Ada Lovelace wrote notes."])
    Membership.objects.create(tenant_id=user.id, user=other_user, role=TenantRole.NORMAL)

    body = client_for(other_user).post(f"/api/v1/datasets/{dataset.id}/index?type=graph").json()

    assert body["code"] == 0, body


@pytest.mark.parametrize(("old", "index_type"), [("graphrag", "graphrag"), ("raptor", "raptor")])
def test_deprecated_run_and_trace(auth_client, parsed_dataset, old, index_type):
    body = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/run_{old}").json()

    assert set(body) == {"code", "message", "data"}
    assert body["message"] == "success"
    task_id = body["data"]["task_id"]
    trace = auth_client.get(f"/api/v1/datasets/{parsed_dataset.id}/trace_{old}").json()
    assert trace["code"] == 0
    assert trace["data"]["id"] == task_id
    assert trace["data"]["task_type"] == index_type
    again = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/run_{old}").json()
    assert again["code"] == 102
    assert set(again) == {"code", "message"}


def test_deprecated_knowledge_graph_delete(auth_client, parsed_dataset):
    task_id = auth_client.post(f"/api/v1/datasets/{parsed_dataset.id}/run_graphrag").json()["data"]["task_id"]

    body = auth_client.delete(f"/api/v1/datasets/{parsed_dataset.id}/knowledge_graph").json()

    assert body == {"code": 0, "data": {}}
    assert not Task.objects.filter(pk=task_id).exists()
    assert Dataset.objects.get(pk=parsed_dataset.id).graphrag_task_id is None
