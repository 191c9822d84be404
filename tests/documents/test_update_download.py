"""PATCH (and legacy PUT) and GET of /datasets/{id}/documents/{doc_id}."""

from urllib.parse import quote

import pytest

from documents.choices import RunStatus
from documents.models import Document
from knowledgebases.models import Dataset
from tests.documents.conftest import corpus_file

pytestmark = pytest.mark.django_db


def patch(client, dataset_id, doc_id, body):
    response = client.patch(f"/api/v1/datasets/{dataset_id}/documents/{doc_id}", body, format="json")
    assert response.status_code == 200
    return response.json()


def mark_parsed(doc_id, dataset_id, chunks=4, tokens=40):
    Document.objects.filter(pk=doc_id).update(run=RunStatus.DONE, progress=1, chunk_num=chunks, token_num=tokens, progress_msg="Task done")
    Dataset.objects.filter(pk=dataset_id).update(chunk_num=chunks, token_num=tokens)


# --- update ---------------------------------------------------------------------------------------


def test_update_renames(auth_client, dataset, uploaded):
    doc = uploaded("old.txt")

    body = patch(auth_client, dataset.id, doc["id"], {"name": "new.txt"})

    assert body["code"] == 0
    assert body["data"]["name"] == "new.txt"
    assert Document.objects.get(pk=doc["id"]).name == "new.txt"


def test_update_put_alias(auth_client, dataset, uploaded):
    doc = uploaded("old.txt")

    response = auth_client.put(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}", {"name": "put.txt"}, format="json")

    assert response.json()["data"]["name"] == "put.txt"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": None}, {"code": 102, "message": "Field: <name> - Message: <Input should be a valid string> - Value: <None>"}),
        ({"name": 0}, {"code": 102, "message": "Field: <name> - Message: <Input should be a valid string> - Value: <0>"}),
        ({"name": "new.md"}, {"code": 101, "message": "The extension of file can't be changed"}),
        ({"name": ""}, {"code": 101, "message": "The extension of file can't be changed"}),
        ({"name": "a" * 252 + ".txt"}, {"code": 101, "message": "File name must be 255 bytes or less."}),
        (
            {"chunk_method": "other_chunk_method"},
            {
                "code": 102,
                "message": "Field: <chunk_method> - Message: <`chunk_method` other_chunk_method doesn't exist> - Value: <other_chunk_method>",
            },
        ),
        ({"chunk_method": ""}, {"code": 102, "message": "`chunk_method` (empty string) is not valid"}),
        ({"meta_fields": []}, {"code": 102, "message": "Field: <meta_fields> - Message: <Input should be a valid dictionary> - Value: <[]>"}),
        ({"chunk_count": 3}, {"code": 102, "message": "can't change `chunk_count`"}),
        ({"token_count": 3}, {"code": 102, "message": "can't change `token_count`"}),
        ({"progress": 0.5}, {"code": 102, "message": "can't change `progress`"}),
        ({"progress": 2.0}, {"code": 102, "message": "Field: <progress> - Message: <Input should be less than or equal to 1> - Value: <2.0>"}),
    ],
)
def test_update_rejects_bad_input(auth_client, dataset, uploaded, body, expected):
    doc = uploaded("doc.txt")

    assert patch(auth_client, dataset.id, doc["id"], body) == expected
    assert Document.objects.get(pk=doc["id"]).name == "doc.txt"


def test_update_rejects_unsupported_meta_values(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")

    in_list = patch(auth_client, dataset.id, doc["id"], {"meta_fields": {"tags": ["a", {"b": 1}]}})
    nested = patch(auth_client, dataset.id, doc["id"], {"meta_fields": {"author": {"first": "ann"}}})

    assert in_list["code"] == 102
    assert "The type is not supported in list: ['a', {'b': 1}]" in in_list["message"]
    assert nested["code"] == 102
    assert "The type is not supported: {'first': 'ann'}" in nested["message"]


def test_update_rejects_duplicate_name(auth_client, dataset, uploaded):
    uploaded("taken.txt")
    doc = uploaded("mine.txt")

    body = patch(auth_client, dataset.id, doc["id"], {"name": "taken.txt"})

    assert body == {"code": 102, "message": "Duplicated document name in the same dataset."}


def test_update_sets_metadata_and_enabled(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")

    body = patch(auth_client, dataset.id, doc["id"], {"meta_fields": {"author": "ann", "year": 2020}, "enabled": 0})

    assert body["data"]["meta_fields"] == {"author": "ann", "year": 2020}
    assert body["data"]["status"] == "0"


def test_update_ignores_unknown_keys(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")

    body = patch(auth_client, dataset.id, doc["id"], {"colour": "blue", "name": "doc.txt"})

    assert body["code"] == 0


def test_update_chunk_method_resets_parsed_document(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")
    mark_parsed(doc["id"], dataset.id)

    body = patch(auth_client, dataset.id, doc["id"], {"chunk_method": "qa"})

    assert body["code"] == 0
    assert body["data"]["chunk_method"] == "qa"
    assert body["data"]["run"] == "UNSTART"
    assert body["data"]["chunk_count"] == 0
    assert body["data"]["progress"] == 0
    assert body["data"]["parser_config"] == {
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
        "image_context_size": 0,
        "table_context_size": 0,
    }
    dataset.refresh_from_db()
    assert dataset.chunk_num == 0
    assert dataset.token_num == 0


def test_update_parser_config_resets_parsed_document(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")
    mark_parsed(doc["id"], dataset.id)

    body = patch(auth_client, dataset.id, doc["id"], {"parser_config": {"chunk_token_num": 256}})

    assert body["data"]["parser_config"]["chunk_token_num"] == 256
    assert body["data"]["run"] == "UNSTART"
    assert body["data"]["token_count"] == 0


def test_update_rename_keeps_parse_state(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")
    mark_parsed(doc["id"], dataset.id)

    body = patch(auth_client, dataset.id, doc["id"], {"name": "renamed.txt"})

    assert body["data"]["run"] == "DONE"
    assert body["data"]["chunk_count"] == 4


def test_update_rejects_config_change_while_running(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")
    Document.objects.filter(pk=doc["id"]).update(run=RunStatus.RUNNING)

    body = patch(auth_client, dataset.id, doc["id"], {"chunk_method": "qa"})

    assert body["code"] == 102
    assert "being parsed" in body["message"]
    assert Document.objects.get(pk=doc["id"]).chunk_method == "naive"


def test_update_rejects_invalid_parser_config(auth_client, dataset, uploaded):
    doc = uploaded("doc.txt")

    body = patch(auth_client, dataset.id, doc["id"], {"parser_config": {"chunk_token_num": 0}})

    assert body["code"] == 102
    assert "Input should be greater than or equal to 1" in body["message"]


def test_update_chunk_method_of_image(auth_client, dataset, upload):
    [doc] = upload(dataset.id, ("pic.jpeg", corpus_file("img-chinese-simplified-text.jpeg")))["data"]

    body = patch(auth_client, dataset.id, doc["id"], {"chunk_method": "naive"})

    assert body == {"code": 102, "message": "Not supported yet!"}


def test_update_other_tenants_document(auth_client, other_client, make_dataset, other_user, upload):
    foreign = make_dataset(owner=other_user, name="theirs")
    [doc] = upload(foreign.id, ("theirs.txt", b"x"), client=other_client)["data"]

    body = patch(auth_client, foreign.id, doc["id"], {"name": "mine.txt"})

    assert body == {"code": 102, "message": "you don't own the dataset"}
    assert Document.objects.get(pk=doc["id"]).name == "theirs.txt"


def test_update_document_of_other_dataset(auth_client, dataset, make_dataset, uploaded):
    other = make_dataset(name="second")
    doc = uploaded("doc.txt", dataset_id=other.id)

    body = patch(auth_client, dataset.id, doc["id"], {"name": "x.txt"})

    assert body == {"code": 102, "message": "the dataset doesn't own the document"}


# --- download -------------------------------------------------------------------------------------


def test_download_returns_bytes(auth_client, dataset, upload):
    content = corpus_file("tables-nested-merged.docx")
    [doc] = upload(dataset.id, ("tables.docx", content))["data"]

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"] == 'attachment; filename="tables.docx"'
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_download_non_ascii_name(auth_client, dataset, upload):
    name = "debian 常见问题 zh-cn.txt"
    [doc] = upload(dataset.id, (name, corpus_file(name)))["data"]

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(name)}"
    assert b"".join(response.streaming_content) == corpus_file(name)


def test_download_empty_file(auth_client, dataset, uploaded):
    doc = uploaded("empty.txt", b"")

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response.json() == {"code": 102, "message": "This file is empty."}


def test_download_missing_stored_file(auth_client, dataset, uploaded, file_storage):
    doc = uploaded("gone.txt", b"data")
    (file_storage / doc["location"]).unlink()

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response.json() == {"code": 102, "message": "This file is empty."}


def test_download_unknown_document(auth_client, dataset):
    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{'a' * 32}")

    assert response.json() == {"code": 102, "message": "document not found"}


def test_download_document_of_other_dataset(auth_client, dataset, make_dataset, uploaded):
    other = make_dataset(name="second")
    doc = uploaded("doc.txt", dataset_id=other.id)

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response.json() == {"code": 102, "message": f"The dataset not own the document {doc['id']}."}


def test_download_other_tenants_document(auth_client, dataset, other_client, make_dataset, other_user, upload):
    foreign = make_dataset(owner=other_user, name="theirs")
    [doc] = upload(foreign.id, ("theirs.txt", b"secret"), client=other_client)["data"]

    via_foreign = auth_client.get(f"/api/v1/datasets/{foreign.id}/documents/{doc['id']}")
    via_own = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert via_foreign.json() == {"code": 102, "message": "document not found"}
    assert via_own.json() == {"code": 102, "message": "document not found"}
