"""Start and stop routes of both families: the spec's response to each input, without a worker."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.choices import RunStatus
from documents.models import Document
from tasks.choices import TaskStatus
from tasks.models import Task


@pytest.fixture
def dataset_id(auth_client):
    return auth_client.post("/api/v1/datasets", {"name": "parse api"}, format="json").json()["data"]["id"]


@pytest.fixture
def document_ids(auth_client, dataset_id):
    files = [SimpleUploadedFile(f"note{index}.txt", f"note number {index}".encode()) for index in range(2)]
    body = auth_client.post(f"/api/v1/datasets/{dataset_id}/documents", {"file": files}, format="multipart").json()
    return [row["id"] for row in body["data"]]


def post(client, path, body):
    return client.post(path, body, format="json").json()


class TestSdkFamily:
    def test_start_queues_tasks(self, auth_client, dataset_id, document_ids):
        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids})

        assert payload == {"code": 0}
        for document in Document.objects.filter(pk__in=document_ids):
            assert document.run == RunStatus.RUNNING
            assert 0 < document.progress < 0.01
            assert "Task is queued" in document.progress_msg
            assert document.process_begin_at is not None
        assert Task.objects.filter(document_id__in=document_ids, status=TaskStatus.QUEUED).count() == 2

    @pytest.mark.parametrize("body", [{}, {"document_ids": []}, {"document_ids": "abc"}])
    def test_missing_document_ids(self, auth_client, dataset_id, body):
        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", body)

        assert payload == {"code": 102, "message": "`document_ids` is required"}

    def test_unknown_ids_reported_valid_queued(self, auth_client, dataset_id, document_ids):
        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": [document_ids[0], "nope"]})

        assert payload == {"code": 102, "message": "Documents not found: ['nope']"}
        assert Document.objects.get(pk=document_ids[0]).run == RunStatus.RUNNING

    def test_duplicates_reported(self, auth_client, dataset_id, document_ids):
        first = document_ids[0]

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": [first, first]})

        assert payload == {"code": 0, "data": {"success_count": 1, "errors": [f"Duplicate document ids: {first}"]}}
        assert Task.objects.filter(document_id=first).count() == 1

    def test_running_document_rejected(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids[:1]})
        tasks_before = list(Task.objects.values_list("id", flat=True))

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids})

        assert payload == {"code": 102, "message": "Can't parse document that is currently being processed"}
        assert list(Task.objects.values_list("id", flat=True)) == tasks_before
        assert Document.objects.get(pk=document_ids[1]).run == RunStatus.UNSTART

    def test_foreign_dataset(self, other_client, dataset_id, document_ids):
        payload = post(other_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids})

        assert payload == {"code": 102, "message": f"You don't own the dataset {dataset_id}."}

    def test_stop_running(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids})

        response = auth_client.delete(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids}, format="json")

        assert response.json() == {"code": 0}
        assert set(Document.objects.filter(pk__in=document_ids).values_list("run", flat=True)) == {RunStatus.CANCEL}
        assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.CANCELLED}

    def test_stop_not_running(self, auth_client, dataset_id, document_ids):
        response = auth_client.delete(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids}, format="json")

        assert response.json() == {
            "code": 102,
            "message": "Can't stop parsing document that has not started or already completed",
            "data": {"error_code": "DOC_STOP_PARSING_INVALID_STATE"},
        }

    def test_stop_unknown_document(self, auth_client, dataset_id):
        response = auth_client.delete(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": ["nope"]}, format="json")

        assert response.json() == {"code": 102, "message": "you don't own the document nope"}


class TestRestFamily:
    def test_parse_restarts_running(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids})
        first_tasks = set(Task.objects.values_list("id", flat=True))

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids})

        assert payload == {"code": 0, "data": {"success_count": 2}}
        assert first_tasks.isdisjoint(Task.objects.values_list("id", flat=True))
        assert Task.objects.count() == 2

    def test_parse_non_object_body(self, auth_client, dataset_id):
        response = auth_client.post(
            f"/api/v1/datasets/{dataset_id}/documents/parse", data='"not json"', content_type="application/json"
        )

        assert response.status_code == 200
        assert response.json()["code"] == 100
        assert "object has no attribute 'get'" in response.json()["message"]

    def test_parse_unknown_ids(self, auth_client, dataset_id, document_ids):
        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": ["invalid_id", document_ids[0]]})

        assert payload == {"code": 102, "message": "Documents not found: ['invalid_id']"}
        assert Document.objects.get(pk=document_ids[0]).run == RunStatus.RUNNING

    def test_stop_appends_message(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids[:1]})

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/stop", {"document_ids": document_ids})

        assert payload == {
            "code": 0,
            "data": {
                "success_count": 1,
                "errors": ["Can't stop parsing document that has not started or already completed"],
            },
        }
        stopped = Document.objects.get(pk=document_ids[0])
        assert stopped.run == RunStatus.CANCEL
        assert stopped.progress == 0
        assert stopped.progress_msg.endswith("Task stopped by user.")

    def test_stop_unknown_ids_stops_nothing(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids[:1]})

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/stop", {"document_ids": [document_ids[0], "x"]})

        assert payload == {"code": 102, "message": "Documents not found: ['x']"}
        assert Document.objects.get(pk=document_ids[0]).run == RunStatus.RUNNING

    @pytest.mark.parametrize("action", ["parse", "stop"])
    def test_empty_dataset_segment(self, auth_client, action):
        response = auth_client.post(f"/api/v1/datasets//documents/{action}", {"document_ids": ["a"]}, format="json")

        assert response.status_code == 200
        assert response.json()["code"] == 100
        assert "Method Not Allowed" in response.json()["message"]

    def test_redis_down(self, auth_client, dataset_id, document_ids, settings):
        settings.REDIS_URL = "redis://127.0.0.1:1/0"

        payload = post(auth_client, f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids})

        assert payload == {"code": 102, "message": "Can't access Redis. Please check the Redis' status."}
        assert set(Document.objects.filter(pk__in=document_ids).values_list("run", flat=True)) == {RunStatus.UNSTART}


class TestTaskCancel:
    def test_cancel_marks_task_and_document(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids[:1]})
        task = Task.objects.get(document_id=document_ids[0])

        payload = post(auth_client, f"/api/v1/tasks/{task.id}/cancel", {})

        assert payload == {"code": 0, "message": "success", "data": True}
        task.refresh_from_db()
        assert task.status == TaskStatus.CANCELLED
        assert task.progress == -1
        assert "Task stopped by user." in task.progress_msg
        assert task.update_time is not None
        assert task.update_time >= task.create_time
        assert Document.objects.get(pk=document_ids[0]).run == RunStatus.CANCEL

    def test_cancel_unknown_task(self, auth_client):
        assert post(auth_client, "/api/v1/tasks/unknown/cancel", {}) == {"code": 0, "message": "success", "data": True}

    def test_patch_stop_action(self, auth_client, dataset_id, document_ids):
        post(auth_client, f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids[:1]})
        task = Task.objects.get(document_id=document_ids[0])

        response = auth_client.patch(f"/api/v1/tasks/{task.id}", {"action": "stop"}, format="json")

        assert response.json()["data"] is True
        assert Task.objects.get(pk=task.id).status == TaskStatus.CANCELLED

    def test_patch_other_action(self, auth_client):
        response = auth_client.patch("/api/v1/tasks/any", {"action": "pause"}, format="json")

        assert response.json() == {"code": 101, "message": "Invalid action 'pause'. Only 'stop' is supported.", "data": None}
