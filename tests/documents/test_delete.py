"""DELETE /datasets/{id}/documents, dataset deletion, stop and the admin console."""

import pytest
from django.urls import reverse

from documents import services
from documents.choices import RunStatus
from documents.models import Document
from knowledgebases.models import Dataset

pytestmark = pytest.mark.django_db


def delete(client, dataset_id, body, **kwargs):
    kwargs.setdefault("format", "json")
    response = client.delete(f"/api/v1/datasets/{dataset_id}/documents", body, **kwargs)
    assert response.status_code == 200
    return response.json()


def stored_files(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


@pytest.fixture
def two_documents(upload, dataset):
    return upload(dataset.id, ("one.txt", b"1"), ("two.txt", b"2"))["data"]


def test_delete_by_ids(auth_client, dataset, two_documents, file_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = delete(auth_client, dataset.id, {"ids": [two_documents[0]["id"]]})

    assert body == {"code": 0, "data": {"deleted": 1}}
    assert list(Document.objects.values_list("name", flat=True)) == ["two.txt"]
    assert stored_files(file_storage) == [two_documents[1]["location"]]
    dataset.refresh_from_db()
    assert dataset.doc_num == 1


def test_delete_all(auth_client, dataset, two_documents, file_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = delete(auth_client, dataset.id, {"delete_all": True})

    assert body == {"code": 0, "data": {"deleted": 2}}
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []
    dataset.refresh_from_db()
    assert dataset.doc_num == 0


def test_delete_keeps_files_until_commit(auth_client, dataset, two_documents, file_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delete(auth_client, dataset.id, {"delete_all": True})

    assert len(callbacks) == 1
    assert len(stored_files(file_storage)) == 2


def test_delete_releases_chunk_counters(auth_client, dataset, two_documents):
    Document.objects.filter(pk=two_documents[0]["id"]).update(chunk_num=3, token_num=30)
    Dataset.objects.filter(pk=dataset.id).update(chunk_num=3, token_num=30)

    delete(auth_client, dataset.id, {"ids": [two_documents[0]["id"]]})

    dataset.refresh_from_db()
    assert (dataset.doc_num, dataset.chunk_num, dataset.token_num) == (1, 0, 0)


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": None, "delete_all": False}])
def test_delete_needs_ids_or_delete_all(auth_client, dataset, two_documents, body):
    result = delete(auth_client, dataset.id, body)

    assert result == {"code": 102, "message": f"should either provide doc ids or set delete_all(true), dataset: {dataset.id}. "}
    assert Document.objects.count() == 2


def test_delete_rejects_ids_with_delete_all(auth_client, dataset, two_documents):
    result = delete(auth_client, dataset.id, {"ids": [two_documents[0]["id"]], "delete_all": True})

    assert result == {"code": 102, "message": f"should not provide both doc ids and delete_all(true), dataset: {dataset.id}. "}
    assert Document.objects.count() == 2


def test_delete_unknown_id_deletes_nothing(auth_client, dataset, two_documents):
    result = delete(auth_client, dataset.id, {"ids": [two_documents[0]["id"], "missing"]})

    assert result == {
        "code": 102,
        "message": f"These documents do not belong to dataset {dataset.id} or Document not found: missing",
    }
    assert Document.objects.count() == 2


def test_delete_foreign_id_deletes_nothing(auth_client, other_client, dataset, two_documents, make_dataset, other_user, upload):
    foreign = make_dataset(owner=other_user, name="theirs")
    [theirs] = upload(foreign.id, ("theirs.txt", b"x"), client=other_client)["data"]

    result = delete(auth_client, dataset.id, {"ids": [two_documents[0]["id"], theirs["id"]]})

    assert result["code"] == 102
    assert theirs["id"] in result["message"]
    assert Document.objects.count() == 3


def test_delete_in_other_tenants_dataset(auth_client, other_client, make_dataset, other_user, upload):
    foreign = make_dataset(owner=other_user, name="theirs")
    upload(foreign.id, ("theirs.txt", b"x"), client=other_client)

    result = delete(auth_client, foreign.id, {"delete_all": True})

    assert result == {"code": 102, "message": f"You don't own the dataset {foreign.id}. "}
    assert Document.objects.count() == 1


def test_delete_rejects_duplicate_ids(auth_client, dataset, two_documents):
    doc_id = two_documents[0]["id"]

    result = delete(auth_client, dataset.id, {"ids": [doc_id, doc_id]})

    assert result["code"] == 101
    assert f"Duplicate ids: '{doc_id}'" in result["message"]
    assert Document.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ({"ids": ["a"], "colour": "red"}, "Extra inputs are not permitted"),
        ({"ids": "abc"}, "Input should be a valid list"),
        ({"ids": [1]}, "Input should be a valid string"),
        ({"delete_all": "yes"}, "Input should be a valid boolean"),
    ],
)
def test_delete_rejects_invalid_body(auth_client, dataset, two_documents, body, message_part):
    result = delete(auth_client, dataset.id, body)

    assert result["code"] == 101
    assert message_part in result["message"]
    assert Document.objects.count() == 2


def test_delete_rejects_non_json(auth_client, dataset):
    response = auth_client.delete(f"/api/v1/datasets/{dataset.id}/documents", "ids=a", content_type="text/plain")

    assert response.json() == {"code": 101, "message": "Unsupported content type: Expected application/json, got text/plain"}


def test_delete_rejects_malformed_json(auth_client, dataset):
    response = auth_client.delete(f"/api/v1/datasets/{dataset.id}/documents", "{", content_type="application/json")

    assert response.json() == {"code": 101, "message": "Malformed JSON syntax: Missing commas/brackets or invalid encoding"}


def test_dataset_delete_removes_documents(auth_client, dataset, two_documents, file_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete("/api/v1/datasets", {"ids": [dataset.id]}, format="json")

    assert response.json()["code"] == 0
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []


def test_delete_documents_of_datasets_keeps_others(make_dataset, upload, django_capture_on_commit_callbacks, file_storage):
    first, second = make_dataset(name="first"), make_dataset(name="second")
    upload(first.id, ("a.txt", b"a"))
    [kept] = upload(second.id, ("b.txt", b"b"))["data"]

    with django_capture_on_commit_callbacks(execute=True):
        deleted = services.delete_documents_of_datasets([first.id])

    assert deleted == 1
    assert list(Document.objects.values_list("id", flat=True)) == [kept["id"]]
    assert stored_files(file_storage) == [kept["location"]]


def test_parsing_status_and_size_of_datasets(dataset, two_documents):
    Document.objects.filter(pk=two_documents[0]["id"]).update(run=RunStatus.DONE)

    assert services.parsing_status_of_datasets([dataset.id]) == {dataset.id: {"done_count": 1, "unstart_count": 1}}
    assert services.document_size_of_dataset(dataset.id) == 2


def test_stop_parsing_only_running(dataset, two_documents):
    running, idle = two_documents[0]["id"], two_documents[1]["id"]
    Document.objects.filter(pk=running).update(run=RunStatus.RUNNING, progress=0.5, chunk_num=2, token_num=9)
    Dataset.objects.filter(pk=dataset.id).update(chunk_num=2, token_num=9)

    stopped = services.stop_parsing([running, idle])

    assert stopped == 1
    assert Document.objects.get(pk=running).run == RunStatus.CANCEL
    assert Document.objects.get(pk=running).progress == 0
    assert Document.objects.get(pk=idle).run == RunStatus.UNSTART
    dataset.refresh_from_db()
    assert (dataset.chunk_num, dataset.token_num) == (0, 0)


# --- admin console ----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    staff = make_user(email="admin@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def test_admin_lists_documents_with_escaped_progress(admin_client, dataset, two_documents):
    Document.objects.filter(pk=two_documents[0]["id"]).update(
        run=RunStatus.RUNNING, progress=0.42, progress_msg="10:00:01 start\n10:00:02 <script>alert(1)</script>"
    )

    response = admin_client.get(reverse("admin:documents_document_changelist"), {"q": "one"})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<progress max="100" value="42"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "two.txt" not in html


def test_admin_delete_action_uses_service(admin_client, dataset, two_documents, file_storage, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:documents_document_changelist"),
            {"action": "delete_documents", "_selected_action": [two_documents[0]["id"]]},
        )

    assert response.status_code == 302
    assert list(Document.objects.values_list("name", flat=True)) == ["two.txt"]
    assert stored_files(file_storage) == [two_documents[1]["location"]]
    dataset.refresh_from_db()
    assert dataset.doc_num == 1


def test_admin_stop_action(admin_client, dataset, two_documents):
    Document.objects.filter(pk=two_documents[0]["id"]).update(run=RunStatus.RUNNING)

    admin_client.post(
        reverse("admin:documents_document_changelist"),
        {"action": "stop_parsing", "_selected_action": [doc["id"] for doc in two_documents]},
    )

    assert Document.objects.get(pk=two_documents[0]["id"]).run == RunStatus.CANCEL
    assert Document.objects.get(pk=two_documents[1]["id"]).run == RunStatus.UNSTART


def test_admin_change_page_renders(admin_client, two_documents):
    response = admin_client.get(reverse("admin:documents_document_change", args=[two_documents[0]["id"]]))

    assert response.status_code == 200
