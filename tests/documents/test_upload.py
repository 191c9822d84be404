"""POST /datasets/{id}/documents and its /file alias, through HTTP."""

import hashlib

import pytest

from documents.models import Document
from knowledgebases.models import Dataset
from tests.documents.conftest import NamedBytes, corpus_file

pytestmark = pytest.mark.django_db


def stored_files(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def test_upload_text_file(upload, dataset, user, file_storage):
    body = upload(dataset.id, ("notes.txt", b"hello world\n"))

    assert body["code"] == 0
    assert "message" not in body
    [doc] = body["data"]
    assert doc["name"] == "notes.txt"
    assert doc["dataset_id"] == dataset.id
    assert doc["type"] == "doc"
    assert doc["suffix"] == "txt"
    assert doc["size"] == 12
    assert doc["run"] == "UNSTART"
    assert doc["chunk_method"] == "naive"
    assert doc["created_by"] == user.id
    assert doc["source_type"] == "local"
    assert doc["content_hash"] == hashlib.sha256(b"hello world\n").hexdigest()
    assert doc["location"] == f"{dataset.id}/{doc['id']}/original.txt"
    assert (file_storage / doc["location"]).read_bytes() == b"hello world\n"


def test_upload_keys_match_inserted_fields(upload, dataset):
    [doc] = upload(dataset.id, ("a.md", b"# title\n"))["data"]

    assert set(doc) == {
        "id", "dataset_id", "chunk_method", "pipeline_id", "parser_config", "created_by", "type", "name",
        "source_type", "suffix", "location", "size", "thumbnail", "content_hash", "run",
    }


def test_upload_several_real_files(upload, dataset):
    names = ["mixed-keys.json", "tables-nested-merged.docx", "invoice-borderless-tables.pdf", "img-chinese-simplified-text.jpeg"]
    body = upload(dataset.id, *[(name, corpus_file(name)) for name in names])

    assert body["code"] == 0
    by_name = {doc["name"]: doc for doc in body["data"]}
    assert by_name["invoice-borderless-tables.pdf"]["type"] == "pdf"
    assert by_name["tables-nested-merged.docx"]["type"] == "doc"
    assert by_name["img-chinese-simplified-text.jpeg"]["type"] == "visual"
    assert by_name["img-chinese-simplified-text.jpeg"]["chunk_method"] == "picture"
    assert by_name["mixed-keys.json"]["size"] == 229


def test_upload_forces_chunk_methods(upload, dataset):
    body = upload(
        dataset.id,
        ("slides.pptx", corpus_file("slide-with-table.pptx")),
        ("mail.eml", corpus_file("mime-plain-and-html.eml")),
        ("song.mp3", b"ID3\x03\x00"),
    )

    methods = {doc["name"]: doc["chunk_method"] for doc in body["data"]}
    assert methods == {"slides.pptx": "presentation", "mail.eml": "email", "song.mp3": "audio"}
    assert {doc["name"]: doc["type"] for doc in body["data"]}["song.mp3"] == "aural"


def test_upload_counts_documents_in_dataset(upload, dataset):
    upload(dataset.id, ("a.txt", b"a"), ("b.txt", b"b"))
    upload(dataset.id, ("c.txt", b"c"))

    dataset.refresh_from_db()
    assert dataset.doc_num == 3
    assert Document.objects.filter(dataset=dataset).count() == 3


def test_upload_numbers_duplicate_names(upload, dataset):
    upload(dataset.id, ("a.txt", b"1"))
    second = upload(dataset.id, ("a.txt", b"2"))["data"][0]
    third = upload(dataset.id, ("a.txt", b"3"))["data"][0]
    numbered = upload(dataset.id, ("a(1).txt", b"4"))["data"][0]

    assert second["name"] == "a(1).txt"
    assert third["name"] == "a(2).txt"
    assert numbered["name"] == "a(3).txt"


def test_upload_same_name_twice_in_one_request(upload, dataset):
    body = upload(dataset.id, ("r.txt", b"1"), ("r.txt", b"2"))

    assert [doc["name"] for doc in body["data"]] == ["r.txt", "r(1).txt"]


def test_upload_same_content_stores_equal_hash(upload, dataset):
    first = upload(dataset.id, ("one.txt", b"same bytes"))["data"][0]
    second = upload(dataset.id, ("two.txt", b"same bytes"))["data"][0]

    assert first["content_hash"] == second["content_hash"]
    assert Document.objects.with_content_hash(first["content_hash"]).count() == 2


def test_upload_empty_file_is_accepted(upload, dataset):
    [doc] = upload(dataset.id, ("empty-zero-bytes.pdf", corpus_file("empty-zero-bytes.pdf")))["data"]

    assert doc["size"] == 0
    assert doc["type"] == "pdf"


def test_upload_non_ascii_name(upload, dataset, file_storage):
    name = "debian 常见问题 zh-cn.txt"
    [doc] = upload(dataset.id, (name, corpus_file(name)))["data"]

    assert doc["name"] == name
    assert stored_files(file_storage) == [f"{dataset.id}/{doc['id']}/original.txt"]


def test_upload_name_of_255_bytes_is_accepted(upload, dataset):
    name = "é" * 125 + "a.txt"
    assert len(name.encode()) == 255

    body = upload(dataset.id, (name, b"x"))

    assert body["code"] == 0
    assert body["data"][0]["name"] == name


@pytest.mark.parametrize("name", ["a" * 252 + ".txt", "é" * 126 + ".txt"])
def test_upload_name_over_255_bytes_is_rejected(upload, dataset, file_storage, name):
    body = upload(dataset.id, (name, b"x"))

    assert body == {"code": 101, "message": "File name must be 255 bytes or less."}
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []


def test_upload_path_in_name_does_not_escape_storage(upload, dataset, file_storage):
    [doc] = upload(dataset.id, ("../../escape.txt", b"x"))["data"]

    assert doc["name"] == "escape.txt"
    assert stored_files(file_storage) == [f"{dataset.id}/{doc['id']}/original.txt"]


def test_upload_unsupported_type_fails(upload, dataset, file_storage):
    body = upload(dataset.id, ("ragflow_test.exe", b"MZ\x90\x00"))

    assert body == {"code": 500, "message": "ragflow_test.exe: This type of file has not been supported yet!"}
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []


def test_upload_name_without_extension_fails(upload, dataset):
    body = upload(dataset.id, ("README", b"x"))

    assert body == {"code": 500, "message": "README: This type of file has not been supported yet!"}


def test_upload_docx_that_is_not_zip_fails(upload, dataset, file_storage):
    body = upload(dataset.id, ("report.docx", corpus_file("autogen-blog-post.html")))

    assert body["code"] == 500
    assert body["message"] == (
        "report.docx: The file content does not match the .docx extension; "
        "expected an Office Open XML file (a ZIP archive)."
    )
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []


def test_upload_pdf_that_is_not_pdf_fails(upload, dataset):
    body = upload(dataset.id, ("paper.pdf", corpus_file("norwich-city-wikipedia.txt")))

    assert body == {
        "code": 500,
        "message": "paper.pdf: The file content does not match the .pdf extension; expected a PDF document (starting with %PDF-).",
    }


def test_upload_png_that_is_jpeg_fails(upload, dataset):
    body = upload(dataset.id, ("photo.png", corpus_file("img-chinese-simplified-text.jpeg")))

    assert body["code"] == 500
    assert body["message"].endswith("expected a PNG image.")


def test_upload_encrypted_xlsx_is_accepted(upload, dataset):
    body = upload(dataset.id, ("secret.xlsx", corpus_file("encrypted-password-protected.xlsx")))

    assert body["code"] == 0


def test_upload_partial_failure_keeps_good_files(upload, dataset):
    body = upload(dataset.id, ("good.txt", b"fine"), ("bad.exe", b"MZ"), ("fake.pdf", b"not a pdf"))

    assert body["code"] == 500
    assert body["message"].splitlines() == [
        "bad.exe: This type of file has not been supported yet!",
        "fake.pdf: The file content does not match the .pdf extension; expected a PDF document (starting with %PDF-).",
    ]
    assert [doc["name"] for doc in body["data"]] == ["good.txt"]
    dataset.refresh_from_db()
    assert dataset.doc_num == 1


def test_upload_without_file_part(auth_client, dataset):
    response = auth_client.post(f"/api/v1/datasets/{dataset.id}/documents", {"other": "x"}, format="multipart")

    assert response.json() == {"code": 101, "message": "No file part!"}


def test_upload_without_body(auth_client, dataset):
    response = auth_client.post(f"/api/v1/datasets/{dataset.id}/documents")

    assert response.json() == {"code": 101, "message": "No file part!"}


def test_upload_with_empty_file_name(auth_client, dataset):
    boundary = "testboundary123"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename=""\r\n'
        "Content-Type: text/plain\r\n\r\n"
        "data\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = auth_client.generic(
        "POST", f"/api/v1/datasets/{dataset.id}/documents", body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.json() == {"code": 101, "message": "No file selected!"}
    assert Document.objects.count() == 0


def test_upload_to_unknown_dataset(upload):
    body = upload("0" * 32, ("a.txt", b"x"))

    assert body == {"code": 102, "message": f"Can't find the dataset with ID {'0' * 32}!"}


def test_upload_to_other_tenants_dataset(upload, make_dataset, other_user, file_storage):
    foreign = make_dataset(owner=other_user, name="theirs")

    body = upload(foreign.id, ("a.txt", b"x"))

    assert body == {"code": 109, "message": "no authorization"}
    assert Document.objects.count() == 0
    assert stored_files(file_storage) == []
    foreign.refresh_from_db()
    assert foreign.doc_num == 0


def test_upload_type_must_be_known(upload, dataset):
    body = upload(dataset.id, ("a.txt", b"x"), query="?type=ftp")

    assert body == {"code": 101, "message": '`type` must be one of "local", "web", or "empty".'}


def test_upload_type_empty_creates_virtual_document(auth_client, dataset):
    url = f"/api/v1/datasets/{dataset.id}/documents?type=empty"

    first = auth_client.post(url, {"name": "blank.txt"}, format="json").json()
    again = auth_client.post(url, {"name": "blank.txt"}, format="json").json()
    unnamed = auth_client.post(url, {"name": ""}, format="json").json()

    assert first["code"] == 0
    assert first["data"][0]["type"] == "virtual"
    assert first["data"][0]["size"] == 0
    assert again == {"code": 102, "message": "Duplicated document name in the same dataset."}
    assert unnamed == {"code": 101, "message": "File name can't be empty."}


def test_upload_parser_config_overrides_table_keys(auth_client, dataset):
    response = auth_client.post(
        f"/api/v1/datasets/{dataset.id}/documents",
        {"file": [NamedBytes(b"a,b\n1,2\n", "t.csv")], "parser_config": '{"table_column_mode": "manual", "chunk_token_num": 9}'},
        format="multipart",
    )

    [doc] = response.json()["data"]
    assert doc["parser_config"]["table_column_mode"] == "manual"
    assert doc["parser_config"]["chunk_token_num"] == dataset.parser_config["chunk_token_num"]


def test_upload_returns_raw_keys_on_request(upload, dataset):
    [doc] = upload(dataset.id, ("a.txt", b"x"), query="?return_raw_files=true")["data"]

    assert doc["kb_id"] == dataset.id
    assert doc["parser_id"] == "naive"
    assert "dataset_id" not in doc


def test_upload_requires_credentials(api_client, dataset):
    response = api_client.post(f"/api/v1/datasets/{dataset.id}/documents", {"file": [NamedBytes(b"x", "a.txt")]})

    assert response.status_code == 401


def test_file_alias_uploads_into_dataset(auth_client, dataset):
    response = auth_client.post(
        "/api/v1/file", {"kb_id": dataset.id, "file": [NamedBytes(b"alias", "alias.txt")]}, format="multipart"
    )

    body = response.json()
    assert body["code"] == 0
    assert body["data"][0]["name"] == "alias.txt"
    assert body["data"][0]["dataset_id"] == dataset.id
    assert Dataset.objects.get(pk=dataset.id).doc_num == 1


def test_file_alias_requires_kb_id(auth_client):
    response = auth_client.post("/api/v1/file", {"file": [NamedBytes(b"x", "a.txt")]}, format="multipart")

    assert response.json() == {"code": 101, "message": "required argument are missing: kb_id; ", "data": None}


def test_file_alias_rejects_foreign_dataset(auth_client, make_dataset, other_user):
    foreign = make_dataset(owner=other_user, name="theirs")

    response = auth_client.post("/api/v1/file", {"kb_id": foreign.id, "file": [NamedBytes(b"x", "a.txt")]}, format="multipart")

    assert response.json() == {"code": 109, "message": "no authorization"}
