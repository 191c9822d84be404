"""Chunk management routes: add, list, get, update, delete and availability, with counters."""

import base64

import pytest

from documents import chunk_services
from documents.models import Chunk, Document
from knowledgebases.models import Dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(dataset, user):
    return Document.objects.create(
        dataset=dataset, created_by=user, name="manual.txt", type="doc", suffix="txt", chunk_method="naive"
    )


@pytest.fixture
def chunks_url(dataset, document):
    return f"/api/v1/datasets/{dataset.id}/documents/{document.id}/chunks"


def add(document, content, **fields):
    return chunk_services.add_chunk(document=document, fields=chunk_services.ChunkFields(content=content, **fields))


def assert_counters_match_rows(document):
    document.refresh_from_db()
    rows = Chunk.objects.filter(document=document)
    assert document.chunk_num == rows.count()
    assert document.token_num == sum(rows.values_list("token_count", flat=True))
    dataset = Dataset.objects.get(pk=document.dataset_id)
    all_rows = Chunk.objects.filter(dataset=dataset)
    assert dataset.chunk_num == all_rows.count()
    assert dataset.token_num == sum(all_rows.values_list("token_count", flat=True))


@pytest.fixture
def count_embeddings(monkeypatch):
    """Count calls to the embedding model and the texts sent."""
    from knowledgebases import embeddings

    calls = []
    original = embeddings.LocalEmbedder.embed

    def counting(self, texts):
        calls.append(list(texts))
        return original(self, texts)

    monkeypatch.setattr(embeddings.LocalEmbedder, "embed", counting)
    return calls


def test_add_chunk_response_and_counters(auth_client, chunks_url, document, dataset):
    body = {"content": "Pumps need oil.", "important_keywords": ["pump"], "questions": [" why oil? ", "  "], "tag_kwd": ["x"]}

    payload = auth_client.post(chunks_url, body, format="json").json()

    assert payload["code"] == 0, payload
    chunk = payload["data"]["chunk"]
    assert len(chunk["id"]) == 16
    assert chunk["content"] == "Pumps need oil."
    assert chunk["document_id"] == document.id
    assert chunk["dataset_id"] == dataset.id
    assert chunk["important_keywords"] == ["pump"]
    assert chunk["questions"] == ["why oil?"]
    assert chunk["tag_kwd"] == ["x"]
    assert chunk["doc_type_kwd"] == "text"
    assert len(chunk["create_time"]) == len("2025-01-01 00:00:00")
    assert isinstance(chunk["create_timestamp"], float)
    stored = Chunk.objects.get(pk=chunk["id"])
    assert stored.embedding_dimension == 384
    assert stored.search_vector is not None
    assert_counters_match_rows(document)


def test_add_same_content_twice_keeps_one(auth_client, chunks_url, document):
    first = auth_client.post(chunks_url, {"content": "same text"}, format="json").json()
    second = auth_client.post(chunks_url, {"content": "same text"}, format="json").json()

    assert first["data"]["chunk"]["id"] == second["data"]["chunk"]["id"]
    assert Chunk.objects.filter(document=document).count() == 1
    assert_counters_match_rows(document)


@pytest.mark.parametrize("content", [None, "", "   \n\t"])
def test_add_blank_content_rejected_before_embedding(auth_client, chunks_url, content, count_embeddings):
    payload = auth_client.post(chunks_url, {"content": content, "questions": ["  "]}, format="json").json()

    assert payload == {"code": 102, "message": "`content` is required"}
    assert count_embeddings == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"important_keywords": "pump"}, "`important_keywords` is required to be a list"),
        ({"important_keywords": [1]}, "`important_keywords` must be a list of strings"),
        ({"questions": "why"}, "`questions` is required to be a list"),
        ({"questions": [None]}, "`questions` must be a list of strings"),
        ({"tag_kwd": {"a": 1}}, "`tag_kwd` is required to be a list"),
        ({"tag_kwd": [2]}, "`tag_kwd` must be a list of strings"),
        ({"image_base64": ""}, "`image_base64` must be a non-empty string"),
        ({"image_base64": "not base64!"}, "Invalid `image_base64`"),
    ],
)
def test_add_rejects_bad_fields(auth_client, chunks_url, body, message, count_embeddings):
    payload = auth_client.post(chunks_url, {"content": "text"} | body, format="json").json()

    assert payload == {"code": 102, "message": message}
    assert count_embeddings == []


def test_add_embeds_questions_with_document_name(auth_client, chunks_url, count_embeddings):
    auth_client.post(chunks_url, {"content": "body text", "questions": ["first?", "second?"]}, format="json")

    assert count_embeddings == [["manual.txt", "first?\nsecond?"]]


def test_add_with_image(auth_client, chunks_url, dataset, file_storage):
    image = base64.b64encode(b"\x89PNG fake bytes").decode()

    chunk = auth_client.post(chunks_url, {"content": "a figure", "image_base64": image}, format="json").json()["data"]["chunk"]

    assert chunk["doc_type_kwd"] == "image"
    assert chunk["image_id"] == f"{dataset.id}-{chunk['id']}"
    assert (file_storage / dataset.id / "chunk-images" / chunk["id"]).read_bytes() == b"\x89PNG fake bytes"


def test_list_pages_every_chunk_once(auth_client, chunks_url, document):
    for number in range(35):
        add(document, f"chunk number {number}")

    first = auth_client.get(chunks_url).json()["data"]
    second = auth_client.get(chunks_url, {"page": 2}).json()["data"]
    walked = [auth_client.get(chunks_url, {"page": page, "page_size": 1}).json()["data"]["chunks"] for page in range(1, 37)]

    assert first["total"] == 35
    assert len(first["chunks"]) == 30
    assert second["total"] == 35
    assert len(second["chunks"]) == 5
    assert [len(page) for page in walked] == [1] * 35 + [0]
    walked_ids = [page[0]["id"] for page in walked[:35]]
    assert len(set(walked_ids)) == 35
    assert walked_ids == [chunk["id"] for chunk in first["chunks"] + second["chunks"]]
    assert first["doc"]["id"] == document.id
    assert first["doc"]["run"] == "UNSTART"


def test_list_orders_parsed_then_newest_added(auth_client, chunks_url, document, dataset):
    from tasks.models import Task

    task = Task.objects.create(dataset=dataset, document=document)
    Chunk.objects.create(id="p2", dataset=dataset, document=document, task=task, position=2, content="parsed two")
    Chunk.objects.create(id="p1", dataset=dataset, document=document, task=task, position=1, content="parsed one")
    older = add(document, "added first")
    Chunk.objects.filter(pk=older.pk).update(create_time=older.create_time - 1000)
    newer = add(document, "added second")

    chunks = auth_client.get(chunks_url).json()["data"]["chunks"]

    assert [chunk["id"] for chunk in chunks] == ["p1", "p2", newer.id, older.id]
    assert set(chunks[0]) == {
        "id", "content", "document_id", "docnm_kwd", "important_keywords", "tag_kwd", "questions",
        "dataset_id", "image_id", "doc_type_kwd", "available", "positions",
    }


def test_list_keywords_highlights_and_escapes(auth_client, chunks_url, document):
    add(document, "<b>Pumps</b> & valves need oil")
    add(document, "Unrelated sentence about weather")

    data = auth_client.get(chunks_url, {"keywords": "pump oil"}).json()["data"]

    assert data["total"] == 1
    assert data["chunks"][0]["content"] == "&lt;b&gt;<em>Pumps</em>&lt;/b&gt; &amp; valves need <em>oil</em>"


def test_list_by_id_and_availability(auth_client, chunks_url, dataset, document):
    kept = add(document, "first text")
    hidden = add(document, "second text")
    auth_client.patch(chunks_url, {"chunk_ids": [hidden.id], "available_int": 0}, format="json")

    by_id = auth_client.get(chunks_url, {"id": kept.id}).json()["data"]
    missing = auth_client.get(chunks_url, {"id": "nope"}).json()
    available = auth_client.get(chunks_url, {"available": "true"}).json()["data"]
    unavailable = auth_client.get(chunks_url, {"available": "no"}).json()["data"]
    selected = auth_client.get(chunks_url, {"chunk_ids": f"{kept.id},{hidden.id}"}).json()["data"]

    assert by_id["total"] == 1
    assert by_id["chunks"][0]["id"] == kept.id
    assert by_id["chunks"][0]["tag_feas"] == {}
    assert missing == {"code": 102, "message": f"Chunk not found: {dataset.id}/nope"}
    assert [chunk["id"] for chunk in available["chunks"]] == [kept.id]
    assert [chunk["id"] for chunk in unavailable["chunks"]] == [hidden.id]
    assert unavailable["chunks"][0]["available"] is False
    assert selected["total"] == 2


def test_list_page_size_over_limit(auth_client, chunks_url):
    payload = auth_client.get(chunks_url, {"page_size": 101}).json()

    assert payload["code"] == 100
    assert payload["message"] == "ValueError('page_size must be less than or equal to 100')"


def test_get_one_in_storage_names(auth_client, chunks_url, document, dataset):
    chunk = add(document, "stored form", important_keywords=["k"])

    data = auth_client.get(f"{chunks_url}/{chunk.id}").json()["data"]
    missing = auth_client.get(f"{chunks_url}/nope").json()

    assert data["id"] == chunk.id
    assert data["doc_id"] == document.id
    assert data["kb_id"] == dataset.id
    assert data["content_with_weight"] == "stored form"
    assert data["important_kwd"] == ["k"]
    assert data["available_int"] == 1
    assert data["docnm_kwd"] == "manual.txt"
    assert not any(key.endswith("_vec") or "_tks" in key for key in data)
    assert missing == {"code": 102, "message": "Chunk not found!"}


def test_update_reembeds_and_reindexes(auth_client, chunks_url, document):
    chunk = add(document, "old words here")
    old_vector = list(Chunk.objects.get(pk=chunk.id).embedding)

    payload = auth_client.patch(
        f"{chunks_url}/{chunk.id}",
        {"content": "fresh turbine text", "important_keywords": ["rotor"], "questions": ["what spins?"],
         "positions": [[1, 2, 3, 4, 5]], "available": False},
        format="json",
    ).json()

    assert payload == {"code": 0}
    stored = Chunk.objects.get(pk=chunk.id)
    assert stored.content == "fresh turbine text"
    assert list(stored.embedding) != old_vector
    assert stored.available is False
    assert stored.positions == [[1, 2, 3, 4, 5]]
    found = auth_client.get(chunks_url, {"keywords": "turbine rotor"}).json()["data"]
    assert [item["id"] for item in found["chunks"]] == [chunk.id]
    assert auth_client.get(chunks_url, {"keywords": "old words"}).json()["data"]["total"] == 0
    assert_counters_match_rows(document)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"content": "  "}, 102, "`content` is required"),
        ({"important_keywords": "k"}, 102, "`important_keywords` should be a list"),
        ({"important_keywords": [1]}, 100, "TypeError('sequence item 0: expected str instance, int found')"),
        ({"questions": "q"}, 102, "`questions` should be a list"),
        ({"available": "True"}, 100, "ValueError(\"invalid literal for int() with base 10: 'True'\")"),
        ({"positions": "p"}, 102, "`positions` should be a list"),
        ({"tag_kwd": "t"}, 102, "`tag_kwd` should be a list"),
        ({"tag_kwd": [1]}, 102, "`tag_kwd` must be a list of strings"),
    ],
)
def test_update_rejects_bad_fields(auth_client, chunks_url, document, body, code, message, count_embeddings):
    chunk = add(document, "text to keep")
    count_embeddings.clear()

    payload = auth_client.patch(f"{chunks_url}/{chunk.id}", body, format="json").json()

    assert payload["code"] == code
    assert payload["message"] == message
    assert count_embeddings == []
    assert Chunk.objects.get(pk=chunk.id).content == "text to keep"


def test_update_missing_chunk(auth_client, chunks_url):
    payload = auth_client.put(f"{chunks_url}/nope", {"content": "x"}, format="json").json()

    assert payload == {"code": 102, "message": "Can't find this chunk nope"}


def test_update_qa_chunk_needs_two_parts(auth_client, dataset, user):
    qa = Document.objects.create(dataset=dataset, created_by=user, name="faq.txt", type="doc", suffix="txt", chunk_method="qa")
    chunk = add(qa, "Q?\tA.")
    url = f"/api/v1/datasets/{dataset.id}/documents/{qa.id}/chunks/{chunk.id}"

    rejected = auth_client.patch(url, {"content": "only a question"}, format="json").json()
    accepted = auth_client.patch(url, {"content": "Why?\nBecause."}, format="json").json()

    assert rejected == {"code": 102, "message": "Q&A must be separated by TAB/ENTER key."}
    assert accepted == {"code": 0}


def test_delete_by_ids_and_counters(auth_client, chunks_url, document):
    first, second, third = (add(document, f"text {n}") for n in range(3))

    payload = auth_client.delete(chunks_url, {"chunk_ids": [first.id, first.id, second.id]}, format="json").json()

    assert payload == {"code": 0, "data": {"success_count": 2, "errors": [f"Duplicate chunk ids: {first.id}"]}}
    assert list(Chunk.objects.filter(document=document).values_list("id", flat=True)) == [third.id]
    assert_counters_match_rows(document)


def test_delete_missing_ids_deletes_the_rest(auth_client, chunks_url, document):
    chunk = add(document, "text")

    payload = auth_client.delete(chunks_url, {"chunk_ids": [chunk.id, "nope"]}, format="json").json()

    assert payload == {"code": 102, "message": "rm_chunk deleted chunks 1, expect 2"}
    assert not Chunk.objects.filter(pk=chunk.id).exists()
    assert_counters_match_rows(document)


def test_delete_all_and_empty_body(auth_client, chunks_url, document):
    add(document, "one")
    add(document, "two")

    nothing = auth_client.delete(chunks_url, format="json").json()
    assert nothing == {"code": 0}
    assert Chunk.objects.filter(document=document).count() == 2

    everything = auth_client.delete(chunks_url, {"delete_all": True}, format="json").json()
    assert everything == {"code": 0}
    assert Chunk.objects.filter(document=document).count() == 0
    assert_counters_match_rows(document)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"available_int": 1}, "`chunk_ids` is required."),
        ({"chunk_ids": ["x"]}, "`available_int` or `available` is required."),
    ],
)
def test_availability_requires_fields(auth_client, chunks_url, body, message):
    assert auth_client.patch(chunks_url, body, format="json").json() == {"code": 102, "message": message}


def test_availability_switch(auth_client, chunks_url, document):
    chunk = add(document, "switchable")

    off = auth_client.patch(chunks_url, {"chunk_ids": [chunk.id], "available": False}, format="json").json()
    assert off == {"code": 0, "data": True}
    assert Chunk.objects.get(pk=chunk.id).available is False

    auth_client.patch(chunks_url, {"chunk_ids": [chunk.id], "available_int": 1}, format="json")
    assert Chunk.objects.get(pk=chunk.id).available is True


def test_document_outside_dataset(auth_client, dataset, make_dataset, user):
    elsewhere = make_dataset(name="elsewhere")
    stray = Document.objects.create(dataset=elsewhere, created_by=user, name="s.txt", type="doc", suffix="txt", chunk_method="naive")
    url = f"/api/v1/datasets/{dataset.id}/documents/{stray.id}/chunks"

    listed = auth_client.get(url).json()
    switched = auth_client.patch(url, {"chunk_ids": ["x"], "available": True}, format="json").json()

    assert listed == {"code": 102, "message": f"you don't own the document {stray.id}"}
    assert switched == {"code": 102, "message": "document not found"}
