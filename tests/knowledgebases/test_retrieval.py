"""``POST /api/v1/retrieval``: ranking, paging, thresholds, weights, highlight, rerank, question
expansion by a chat model (``keyword``, ``cross_languages``) and input checks."""

import json
import logging

import pytest
from django.db import connection

from documents import chunk_services
from documents.fulltext import BM25_K1
from documents.models import Chunk, Document
from knowledgebases import retrieval
from knowledgebases import services as dataset_services
from tests.fakes.chat_server import Reply
from tests.fakes.openai_server import FakeOpenAIServer
from tests.knowledgebases.conftest import EMBEDDING_MODEL

pytestmark = pytest.mark.django_db

URL = "/api/v1/retrieval"


@pytest.fixture
def dataset(user):
    return dataset_services.create_dataset(tenant_id=user.id, user=user, name="search")


@pytest.fixture
def make_document(dataset, user):
    def create(name="doc.txt", target=None, **fields):
        return Document.objects.create(
            dataset=target or dataset, created_by=user, name=name, type="doc", suffix="txt", chunk_method="naive", **fields
        )

    return create


@pytest.fixture
def document(make_document):
    return make_document()


def add(document, content):
    return chunk_services.add_chunk(document=document, fields=chunk_services.ChunkFields(content=content))


def search(client, dataset_ids, question, **fields):
    response = client.post(URL, {"dataset_ids": dataset_ids, "question": question} | fields, format="json")
    assert response.status_code == 200
    return response.json()


def test_pages_are_stable_and_total_fixed(auth_client, dataset, document):
    for number in range(35):
        add(document, f"Zebra stripes pattern number {number}")
    add(document, "Completely unrelated text on tax law")

    first = search(auth_client, [dataset.id], "zebra stripes", vector_similarity_weight=0)
    second = search(auth_client, [dataset.id], "zebra stripes", page=2, vector_similarity_weight=0)
    walked = [
        search(auth_client, [dataset.id], "zebra stripes", page=page, page_size=1, vector_similarity_weight=0)["data"]
        for page in range(1, 37)
    ]

    assert first["data"]["total"] == 35
    assert len(first["data"]["chunks"]) == 30
    assert second["data"]["total"] == 35
    assert len(second["data"]["chunks"]) == 5
    assert {page["total"] for page in walked} == {35}
    ids = [page["chunks"][0]["id"] for page in walked[:35]]
    assert len(set(ids)) == 35
    assert walked[35]["chunks"] == []
    assert ids == [chunk["id"] for chunk in first["data"]["chunks"] + second["data"]["chunks"]]


@pytest.mark.django_db(transaction=True)
def test_parallel_pools_match_one_connection(auth_client, dataset, document, settings):
    """Outside a transaction the full-text pool runs on the helper thread's connection, with the same results."""
    for number in range(6):
        add(document, f"Tidal turbines generate power, site {number}")
    add(document, "Wind turbines on hills")
    add(document, "Rivers carry sediment to the sea")
    retrieval.close_pool_helper()

    settings.RETRIEVAL_PARALLEL_POOLS = True
    # While another request of the process uses the helper, this one reads both pools itself.
    with retrieval._helper_free:
        busy = search(auth_client, [dataset.id], "tidal turbines", similarity_threshold=0, highlight=True)["data"]
    helper_started_when_busy = retrieval._helper is not None
    parallel = search(auth_client, [dataset.id], "tidal turbines", similarity_threshold=0, highlight=True)["data"]
    helper_started = retrieval._helper is not None
    settings.RETRIEVAL_PARALLEL_POOLS = False
    single = search(auth_client, [dataset.id], "tidal turbines", similarity_threshold=0, highlight=True)["data"]

    assert not helper_started_when_busy
    assert helper_started
    assert parallel["total"] == 8
    assert parallel == single == busy


def test_response_shape(auth_client, dataset, document):
    chunk = add(document, "Hydraulic pumps move fluid")

    data = search(auth_client, [dataset.id], "hydraulic pumps")["data"]

    assert data["total"] == 1
    item = data["chunks"][0]
    assert item["id"] == chunk.id
    assert item["content"] == "Hydraulic pumps move fluid"
    assert item["document_id"] == document.id
    assert item["document_keyword"] == "doc.txt"
    assert item["dataset_id"] == dataset.id
    # The only full-text match is the best one, and its BM25 share (1 / (k1 + 1): every question
    # lexeme once, at the average length) is above the floor, so its term similarity is 1.
    assert 1 / (1 + BM25_K1) > retrieval.RELATIVE_TERM_FLOOR
    assert item["term_similarity"] == pytest.approx(1.0)
    assert 0 < item["vector_similarity"] <= 1
    assert item["similarity"] == pytest.approx(0.3 * item["term_similarity"] + 0.7 * item["vector_similarity"])
    for key in ("content_ltks", "important_keywords", "questions", "tag_kwd", "image_id", "positions",
                "doc_type_kwd", "mom_id", "row_id"):
        assert key in item
    assert "highlight" not in item
    assert data["doc_aggs"] == [{"doc_name": "doc.txt", "doc_id": document.id, "count": 1}]


def test_threshold_with_and_without_documents(auth_client, dataset, make_document):
    first, second = make_document("first.txt"), make_document("second.txt")
    add(first, "Solar panels convert sunlight")
    add(second, "Solar farms need land")
    add(second, "Recipes for bread and cakes")

    everything = search(auth_client, [dataset.id], "solar", similarity_threshold=0)["data"]
    strict = search(auth_client, [dataset.id], "solar", similarity_threshold=0.5)["data"]
    impossible = search(auth_client, [dataset.id], "solar", similarity_threshold=1.01)["data"]
    only_second = search(auth_client, [dataset.id], "solar", similarity_threshold=0, document_ids=[second.id])["data"]
    strict_second = search(auth_client, [dataset.id], "solar", similarity_threshold=0.5, document_ids=[second.id])["data"]

    assert everything["total"] == len([c for c in everything["chunks"] if c["similarity"] >= 0]) == 3
    assert strict["total"] == 2
    assert all(chunk["similarity"] >= 0.5 for chunk in strict["chunks"])
    assert impossible == {"total": 0, "chunks": [], "doc_aggs": []}
    assert {chunk["document_id"] for chunk in only_second["chunks"]} == {second.id}
    assert only_second["total"] == 2
    assert [chunk["content"] for chunk in strict_second["chunks"]] == ["Solar farms need land"]


def test_weight_zero_and_one(auth_client, dataset, document):
    add(document, "The cat sat on the warm mat")
    add(document, "Kittens and felines purr loudly")
    add(document, "Quarterly revenue grew strongly")

    text_only = search(auth_client, [dataset.id], "cat", vector_similarity_weight=0, similarity_threshold=0)["data"]
    vector_only = search(auth_client, [dataset.id], "cat", vector_similarity_weight=1, similarity_threshold=0)["data"]

    assert [chunk["content"] for chunk in text_only["chunks"]] == ["The cat sat on the warm mat"]
    assert text_only["chunks"][0]["similarity"] == pytest.approx(text_only["chunks"][0]["term_similarity"])
    assert vector_only["total"] == 3
    for chunk in vector_only["chunks"]:
        assert chunk["similarity"] == pytest.approx(chunk["vector_similarity"])
    similarities = [chunk["similarity"] for chunk in vector_only["chunks"]]
    assert similarities == sorted(similarities, reverse=True)
    assert vector_only["chunks"][-1]["content"] == "Quarterly revenue grew strongly"


def test_cjk_question_matches_cjk_text(auth_client, dataset, document):
    add(document, "早期胃癌的内镜治疗方法")
    add(document, "天气预报说明天下雨")
    add(document, "Gastric cancer treatment in English")

    data = search(auth_client, [dataset.id], "胃癌治疗", vector_similarity_weight=0)["data"]

    assert data["chunks"][0]["content"] == "早期胃癌的内镜治疗方法"
    assert data["total"] == 1


def test_identifier_ranks_its_chunk_first(auth_client, dataset, document):
    add(document, "Replace the filter on pump model PPR-9088 every year.")
    add(document, "Part 9087 of the catalogue lists bolts.")
    target = add(document, "The PPR-9087 valve must be checked monthly.")
    add(document, "PPR valves and pumps overview.")

    data = search(auth_client, [dataset.id], "PPR-9087")["data"]

    assert data["chunks"][0]["id"] == target.id


def test_highlight_escapes_text(auth_client, dataset, document):
    add(document, "<script>alert('x')</script> Turbines & <b>rotors</b>")

    marked = search(auth_client, [dataset.id], "turbine rotor", highlight=True)["data"]["chunks"][0]
    as_text = search(auth_client, [dataset.id], "turbine rotor", highlight="TRUE")["data"]["chunks"][0]
    invalid = search(auth_client, [dataset.id], "turbine rotor", highlight="yes")

    assert marked["highlight"] == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; <em>Turbines</em> &amp; &lt;b&gt;<em>rotors</em>&lt;/b&gt;"
    )
    assert marked["content"] == "<script>alert('x')</script> Turbines & <b>rotors</b>"
    assert "highlight" in as_text
    assert invalid == {"code": 102, "message": "`highlight` should be a boolean"}


def test_question_matching_nothing(auth_client, dataset, document):
    add(document, "Bridges carry roads over rivers")

    payload = search(auth_client, [dataset.id], "xylophone quasar zymurgy")

    assert payload == {"code": 0, "data": {"total": 0, "chunks": [], "doc_aggs": []}}


def test_blank_question_returns_empty(auth_client, dataset):
    payload = search(auth_client, [dataset.id], "   ")

    assert payload == {"code": 0, "data": {"total": 0, "chunks": [], "doc_aggs": {}}}


def test_unavailable_chunks_are_not_retrieved(auth_client, dataset, document):
    hidden = add(document, "Glaciers retreat in summer")
    chunk_services.set_availability(document=document, chunk_ids=[hidden.id], available=False)

    assert search(auth_client, [dataset.id], "glaciers")["data"]["total"] == 0


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"dataset_ids": None}, 102, "`dataset_ids` is required."),
        ({"dataset_ids": []}, 102, "`dataset_ids` is required."),
        ({"dataset_ids": "abc"}, 102, "`dataset_ids` should be a list"),
        ({"question": 5}, 100, "AttributeError(\"'int' object has no attribute 'strip'\")"),
        ({"similarity_threshold": "a"}, 100, "ValueError(\"could not convert string to float: 'a'\")"),
        ({"similarity_threshold": None}, 100,
         "TypeError(\"float() argument must be a string or a real number, not 'NoneType'\")"),
        ({"vector_similarity_weight": "b"}, 100, "ValueError(\"could not convert string to float: 'b'\")"),
        ({"top_k": "x"}, 100, "ValueError(\"invalid literal for int() with base 10: 'x'\")"),
        ({"top_k": 0}, 102, "`top_k` must be greater than 0"),
        ({"page_size": 101}, 100, "ValueError('page_size must be less than or equal to 100')"),
        ({"document_ids": "doc"}, 102, "`documents` should be a list"),
        ({"document_ids": ["nope"]}, 102, "The datasets don't own the document nope"),
        ({"rerank_id": "missing-model"}, 102, "Model missing-model not found for model rerank"),
    ],
)
def test_invalid_fields(auth_client, dataset, fields, code, message):
    body = {"dataset_ids": [dataset.id], "question": "anything"} | fields

    payload = auth_client.post(URL, body, format="json").json()

    assert payload["code"] == code, payload
    assert payload["message"] == message


@pytest.mark.parametrize(("body", "shown"), [("[1, 2]", "[1, 2]"), ("null", "null"), ('"text"', '"text"')])
def test_non_object_body(auth_client, dataset, caplog, body, shown):
    """A body that is not a JSON object gets code 100, a message naming the expected shape, and no error log."""
    with caplog.at_level(logging.ERROR):
        payload = auth_client.post(URL, body, content_type="application/json").json()

    assert payload["code"] == 100
    assert payload["data"] is None
    assert payload["message"].startswith(f"The request body must be a JSON object, got {shown}.")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_missing_question(auth_client, dataset):
    payload = auth_client.post(URL, {"dataset_ids": [dataset.id]}, format="json").json()

    assert payload == {"code": 102, "message": "`question` is required."}


def test_lenient_paging_values(auth_client, dataset, document):
    add(document, "Lenient paging sample")

    payload = search(auth_client, [dataset.id], "lenient paging", page="abc", page_size=None, top_k=5.0)

    assert payload["code"] == 0
    assert payload["data"]["total"] == 1


def test_other_tenant_ids_refused(auth_client, other_client, other_user, dataset, document):
    add(document, "Private knowledge of tenant A")
    foreign = dataset_services.create_dataset(tenant_id=other_user.id, user=other_user, name="theirs")
    foreign_document = Document.objects.create(
        dataset=foreign, created_by=other_user, name="b.txt", type="doc", suffix="txt", chunk_method="naive"
    )

    as_other = search(other_client, [dataset.id], "private knowledge")
    foreign_doc = search(auth_client, [dataset.id], "private knowledge", document_ids=[foreign_document.id])

    assert as_other == {"code": 102, "message": f"You don't own the dataset {dataset.id}."}
    assert foreign_doc == {"code": 102, "message": f"The datasets don't own the document {foreign_document.id}"}


def test_different_embedding_models(auth_client, user, dataset):
    dataset_services.add_provider(tenant_id=user.id, provider_name="OpenAI-API-Compatible")
    dataset_services.add_provider_instance(
        tenant_id=user.id, provider_name="OpenAI-API-Compatible", instance_name="local", base_url="http://127.0.0.1:9/v1",
        models=[dataset_services.ModelInfo(model_types=("embedding",), name="tiny-embed", dimension=8)],
    )
    other = dataset_services.create_dataset(
        tenant_id=user.id, user=user, name="other model", embedding_model="tiny-embed@local@OpenAI-API-Compatible"
    )

    payload = search(auth_client, [dataset.id, other.id], "anything")

    assert payload["code"] == 102
    assert payload["message"].startswith("Datasets use different embedding models: [")
    assert "tiny-embed@local@OpenAI-API-Compatible" in payload["message"]


def test_remote_embedding_model_dataset(auth_client, user):
    with FakeOpenAIServer(dimension=8) as server:
        dataset_services.add_provider(tenant_id=user.id, provider_name="OpenAI-API-Compatible")
        dataset_services.add_provider_instance(
            tenant_id=user.id, provider_name="OpenAI-API-Compatible", instance_name="fake", base_url=server.base_url,
            models=[dataset_services.ModelInfo(model_types=("embedding",), name="fake-embed", dimension=8)],
        )
        remote = dataset_services.create_dataset(
            tenant_id=user.id, user=user, name="remote", embedding_model="fake-embed@fake@OpenAI-API-Compatible"
        )
        document = Document.objects.create(
            dataset=remote, created_by=user, name="r.txt", type="doc", suffix="txt", chunk_method="naive"
        )
        add(document, "Eight dimension vectors live here")

        data = search(auth_client, [remote.id], "eight dimension vectors")["data"]

    assert data["total"] == 1
    assert Chunk.objects.get(document=document).embedding_dimension == 8


def test_question_embedded_once(auth_client, dataset, document, monkeypatch):
    from knowledgebases import embeddings

    add(document, "Embedding count check")
    calls = []
    original = embeddings.LocalEmbedder.embed
    monkeypatch.setattr(embeddings.LocalEmbedder, "embed", lambda self, texts: calls.append(texts) or original(self, texts))

    search(auth_client, [dataset.id], "embedding count", highlight=True)

    assert calls == [["embedding count"]]


def test_metadata_condition(auth_client, dataset, make_document):
    tagged = make_document("tagged.txt", meta_fields={"author": "ann"})
    plain = make_document("plain.txt", meta_fields={"author": "bob"})
    add(tagged, "Volcano eruption report")
    add(plain, "Volcano field notes")
    condition = {"logic": "and", "conditions": [{"name": "author", "comparison_operator": "is", "value": "ann"}]}
    no_match = {"conditions": [{"name": "author", "comparison_operator": "is", "value": "zed"}]}

    matched = search(auth_client, [dataset.id], "volcano", metadata_condition=condition)["data"]
    empty = search(auth_client, [dataset.id], "volcano", metadata_condition=no_match)

    assert [chunk["document_id"] for chunk in matched["chunks"]] == [tagged.id]
    assert empty == {"code": 0, "data": {"total": 0, "chunks": [], "doc_aggs": {}}}


def test_rerank_model_reorders(auth_client, user, dataset, document):
    add(document, "Apples are red fruit")
    add(document, "Apples grow on trees in the orchard garden")
    with FakeOpenAIServer(rerank_boost="orchard") as server:
        dataset_services.add_provider(tenant_id=user.id, provider_name="Jina")
        dataset_services.add_provider_instance(
            tenant_id=user.id, provider_name="Jina", instance_name="test", base_url=server.base_url, api_key="rk",
            models=[dataset_services.ModelInfo(model_types=("rerank",), name="jina-reranker-v2")],
        )
        plain = search(auth_client, [dataset.id], "apples red", vector_similarity_weight=0.5)["data"]
        reranked = search(
            auth_client, [dataset.id], "apples red", vector_similarity_weight=0.5, rerank_id="jina-reranker-v2@test@Jina"
        )["data"]

    assert plain["chunks"][0]["content"] == "Apples are red fruit"
    assert reranked["chunks"][0]["content"] == "Apples grow on trees in the orchard garden"
    sent = server.requests[0]
    assert sent["path"] == "/v1/rerank"
    assert sent["headers"]["Authorization"] == "Bearer rk"
    assert sent["body"]["model"] == "jina-reranker-v2"
    assert sent["body"]["query"] == "apples red"
    assert sorted(sent["body"]["documents"]) == sorted(chunk["content"] for chunk in plain["chunks"])


def test_use_kg_without_graph(auth_client, dataset, document):
    add(document, "Graphs need nodes")

    data = search(auth_client, [dataset.id], "graphs nodes", use_kg=True)["data"]

    assert [chunk["content"] for chunk in data["chunks"]] == ["Graphs need nodes"]
    assert retrieval.knowledge_graph_chunk(datasets=[dataset], question="graphs", question_vector=[0.0] * 384) is None


def test_vector_search_uses_hnsw_index(dataset, document):
    add(document, "Index probe text")
    filters = "c.dataset_id = ANY(%s) AND c.available AND NOT (c.kind = ANY(%s))"
    sql = retrieval.vector_candidates_sql(384, filters)

    # On a one-row table the planner may prefer another index followed by a sort. With scans and
    # sorts priced out, only an HNSW index scan returns rows in distance order, so the plan shows
    # whether the query's cast and predicate match that index.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        cursor.execute("EXPLAIN " + sql, [[dataset.id], ["graph"], [0.1] * 384, 10])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")

    assert "documents_chunk_embedding_384_hnsw" in plan


def _index_options(name: str) -> list[str] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [name])
        row = cursor.fetchone()
    return None if row is None else row[0]


def test_vector_indexes_use_the_denser_graph():
    """Migrations leave the built-in size's index with the graph options new indexes get."""
    from documents.chunk_store import HNSW_EF_CONSTRUCTION, HNSW_M, vector_index_name

    assert _index_options(vector_index_name(384)) == [f"m={HNSW_M}", f"ef_construction={HNSW_EF_CONSTRUCTION}"]


def test_graph_migration_rebuilds_existing_indexes():
    """An index built with pgvector's defaults before migration 0007 gets the denser graph, and back."""
    import importlib

    from documents.chunk_store import drop_vector_index_sql, vector_index_name

    migration = importlib.import_module("documents.migrations.0007_chunk_embedding_hnsw_denser_graph")
    name = vector_index_name(12)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX {name} ON documents_chunk USING hnsw ((embedding::vector(12)) vector_cosine_ops) "
            "WHERE embedding_dimension = 12"
        )
    try:
        with connection.schema_editor() as editor:
            migration.denser_graphs(None, editor)
        assert _index_options(name) == ["m=24", "ef_construction=128"]
        with connection.schema_editor() as editor:
            migration.default_graphs(None, editor)
        assert _index_options(name) == ["m=16", "ef_construction=64"]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(drop_vector_index_sql(12))


def test_term_scores_read_postgres_output(document):
    """Repeats in PostgreSQL's text form count, and lexemes with quotes and backslashes still match."""
    from documents.fulltext import BM25_K1, TermScorer, matched_lexemes_sql

    add(document, "Vitamin D, vitamin D and statins statins statins.")
    lexemes = ["vitamin", "d", "statin", "absent"]
    hits_sql, hits_params = matched_lexemes_sql("search_vector", lexemes)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {hits_sql}::text FROM documents_chunk WHERE document_id = %s", [*hits_params, document.pk])
        matched = cursor.fetchone()[0]
        # Lexemes built directly can contain quotes and backslashes, which the text form escapes.
        odd = ["it's", "back\\slash", "a''b"]
        cursor.execute("SELECT setweight(array_to_tsvector(%s::text[]), 'A')::text", [odd])
        odd_matched = cursor.fetchone()[0]
    # At average length each lexeme adds n / (n + k1) for n occurrences. The four weights are equal.
    expected = (2 / (2 + BM25_K1) + 2 / (2 + BM25_K1) + 3 / (3 + BM25_K1)) / 4
    assert TermScorer(dict.fromkeys(lexemes, 1.0)).score(matched) == pytest.approx(expected)
    assert TermScorer(dict.fromkeys(odd, 1.0)).score(odd_matched) == pytest.approx(1 / (1 + BM25_K1))
    assert TermScorer({"it's": 1.0, "its": 1.0}).score(odd_matched) == pytest.approx(0.5 / (1 + BM25_K1))


def test_term_scorer_follows_bm25():
    """One occurrence at average length scores the lexeme's weight share over k1 + 1; length and repeats shift it."""
    from documents.fulltext import BM25_K1, TermScorer

    score = TermScorer({"vitamin": 3.0, "d": 1.0}).score
    single = 0.75 / (BM25_K1 + 1)
    assert score("'vitamin':4A") == pytest.approx(single)
    assert score("'vitamin':4A 'd':5A") == pytest.approx(1 / (BM25_K1 + 1))
    assert score("'vitamin':4A", length_ratio=3.0) < single
    assert score("'vitamin':4A", length_ratio=0.3) > single
    repeated = score("'vitamin':1A,4A,9A")
    assert single < repeated < 0.75
    assert score("'vitamin':1A,4A,9A 'd':2A,3A", length_ratio=0.1) < 1.0
    assert score("'other':1A") == 0.0
    assert score("") == 0.0


@pytest.fixture
def chat_dataset(user, fake_models):
    """A dataset that embeds with the fake server's model; the tenant's default chat model is the fake one."""
    return dataset_services.create_dataset(tenant_id=user.id, user=user, name="expansion", embedding_model=EMBEDDING_MODEL)


@pytest.fixture
def chat_document(chat_dataset, make_document):
    return make_document(target=chat_dataset)


def answer_by_task(*, translations=(), keywords=()):
    """Return a responder of the fake chat server: translations to translation prompts, keywords to the rest."""

    def respond(body):
        if "translate" in body["messages"][0]["content"]:
            return Reply(content=json.dumps(list(translations), ensure_ascii=False))
        return Reply(content=json.dumps(list(keywords)))

    return respond


def test_keyword_finds_unmatched_chunk(auth_client, chat_dataset, chat_document, chat_server):
    target = add(chat_document, "Photovoltaic modules lose output at high temperature")
    add(chat_document, "Bread rises in a warm oven")
    chat_server.responder = answer_by_task(keywords=["photovoltaic", "temperature"])
    question = "why do solar panels degrade"

    bare = search(auth_client, [chat_dataset.id], question, vector_similarity_weight=0, similarity_threshold=0)
    assert chat_server.requests == []
    expanded = search(
        auth_client, [chat_dataset.id], question, keyword=True, vector_similarity_weight=0, similarity_threshold=0
    )

    assert bare["data"]["total"] == 0
    assert expanded["code"] == 0, expanded
    assert [chunk["id"] for chunk in expanded["data"]["chunks"]] == [target.id]
    assert len(chat_server.requests) == 1
    assert question in chat_server.requests[0].user_prompt
    assert chat_server.requests[0].body["model"] == "fake-chat"


def test_keyword_string_false_is_off(auth_client, chat_dataset, chat_document, chat_server):
    add(chat_document, "Wind turbines need maintenance")

    payload = search(auth_client, [chat_dataset.id], "wind turbines", keyword="false")

    assert payload["data"]["total"] == 1
    assert chat_server.requests == []


def test_cross_languages_finds_chinese_chunk(auth_client, chat_dataset, chat_document, chat_server):
    target = add(chat_document, "早期胃癌的内镜治疗方法")
    add(chat_document, "天气预报说明天下雨")
    chat_server.responder = answer_by_task(translations=["胃癌治疗"])
    question = "gastric cancer treatment"

    bare = search(auth_client, [chat_dataset.id], question, vector_similarity_weight=0, similarity_threshold=0)
    translated = search(
        auth_client, [chat_dataset.id], question, cross_languages=["Chinese"], vector_similarity_weight=0,
        similarity_threshold=0,
    )

    assert bare["data"]["total"] == 0
    assert translated["code"] == 0, translated
    assert [chunk["id"] for chunk in translated["data"]["chunks"]] == [target.id]
    assert len(chat_server.requests) == 1
    prompt = chat_server.requests[0].user_prompt
    assert question in prompt
    assert "Chinese" in prompt


def test_both_fields_embed_extended_question_once(auth_client, chat_dataset, chat_document, chat_server):
    add(chat_document, "Glaciers retreat in summer")
    chat_server.responder = answer_by_task(translations=["Gletscher im Sommer", "冰川"], keywords=["ice", "melt"])
    embedded_before = len(chat_server.embedding_requests)

    response = auth_client.post(
        URL,
        {"dataset_ids": [chat_dataset.id], "question": "glaciers in summer", "keyword": 1,
         "cross_languages": ["German", " Chinese ", "German"]},
        format="json",
    )

    assert response.json()["code"] == 0, response.json()
    searched = chat_server.embedding_requests[embedded_before:]
    assert [request.body["input"] for request in searched] == [["glaciers in summer\nGletscher im Sommer\n冰川\nice melt"]]
    prompts = [request.user_prompt for request in chat_server.requests]
    assert len(prompts) == 2
    assert "German, Chinese" in prompts[0]
    assert "keywords" in prompts[1]
    assert "expand;dur=" in response["Server-Timing"]


SEND_LANGUAGES = 'Send a list of language names such as ["English", "Chinese"].'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Chinese", f'`cross_languages` should be a list, got "Chinese". {SEND_LANGUAGES}'),
        ({"lang": "fr"}, f'`cross_languages` should be a list, got {{"lang": "fr"}}. {SEND_LANGUAGES}'),
        (["French", 5], f"`cross_languages` contains 5, which is not a language name. {SEND_LANGUAGES}"),
        ([None], f"`cross_languages` contains null, which is not a language name. {SEND_LANGUAGES}"),
        (["  "], f'`cross_languages` contains "  ", which is not a language name. {SEND_LANGUAGES}'),
        (["x" * 65], f'`cross_languages` contains "{"x" * 65}", which is longer than 64 characters. {SEND_LANGUAGES}'),
        (["English", "French", "German", "Spanish", "Italian", "Dutch"],
         "`cross_languages` lists 6 languages, but the maximum is 5. Send at most 5."),
    ],
)
def test_cross_languages_invalid_values(auth_client, chat_dataset, chat_server, value, message):
    payload = auth_client.post(
        URL, {"dataset_ids": [chat_dataset.id], "question": "anything", "cross_languages": value}, format="json"
    ).json()

    assert payload == {"code": 102, "message": message}
    assert chat_server.requests == []


def test_expansion_without_chat_model(auth_client, dataset, document):
    add(document, "Tidal energy projects")

    keyword = search(auth_client, [dataset.id], "tidal energy", keyword=True)
    both = search(auth_client, [dataset.id], "tidal energy", keyword=True, cross_languages=["French"])
    plain = search(auth_client, [dataset.id], "tidal energy")

    assert keyword == {
        "code": 102,
        "message": f"Retrieval with `keyword` needs a chat model, but dataset {dataset.id} has none. Set the tenant's "
        "default chat model with PATCH /api/v1/models/default, or send the request without `keyword`.",
    }
    assert both["code"] == 102
    assert both["message"].startswith("Retrieval with `cross_languages` and `keyword` needs a chat model")
    assert both["message"].endswith("or send the request without `cross_languages` and `keyword`.")
    assert plain["data"]["total"] == 1


def test_expansion_with_missing_chat_model(auth_client, user, dataset):
    from accounts.models import Tenant

    Tenant.objects.filter(pk=user.id).update(llm_id="gone-chat@fake@OpenAI-API-Compatible")

    payload = search(auth_client, [dataset.id], "anything", cross_languages=["French"])

    assert payload == {
        "code": 102,
        "message": f"Retrieval with `cross_languages` needs a chat model, but the chat model of dataset {dataset.id} "
        "cannot be used: Provider OpenAI-API-Compatible not found for model gone-chat@fake@OpenAI-API-Compatible. "
        "Fix that model or set another default chat model with PATCH /api/v1/models/default, or send the request "
        "without `cross_languages`.",
    }


def test_chat_server_error_is_reported(auth_client, chat_dataset, chat_document, chat_server, caplog):
    add(chat_document, "Desalination plants use membranes")
    chat_server.responder = lambda body: Reply(status=500, error_body='{"error": {"message": "model crashed"}}')
    caplog.set_level(logging.INFO, logger="knowledgebases")

    response = auth_client.post(
        URL, {"dataset_ids": [chat_dataset.id], "question": "desalination", "keyword": True}, format="json"
    )

    assert response.status_code == 200
    payload = response.json()
    assert payload["code"] == 100
    assert payload["data"] is None
    assert payload["message"].startswith(
        "Keyword extraction (`keyword`) with chat model fake-chat failed: TransientChatError: Chat service http://127.0.0.1:"
    )
    assert "HTTP 500" in payload["message"]
    assert "model crashed" in payload["message"]
    assert payload["message"].endswith("Check the chat model and its provider, or send the request without `keyword`.")
    assert len(chat_server.requests) == 2
    assert f"dataset {chat_dataset.id}" in caplog.text
    assert "test-key" not in caplog.text


def test_unreadable_answer_is_reported(auth_client, chat_dataset, chat_document, chat_server):
    add(chat_document, "Lighthouses guide ships")
    chat_server.responder = answer_by_task(translations=["only one"])

    payload = search(auth_client, [chat_dataset.id], "lighthouses", cross_languages=["French", "Greek"])

    assert payload["code"] == 100
    assert payload["message"].startswith("Translation (`cross_languages`) with chat model fake-chat failed: ")
    assert "expected 2 translations, got 1" in payload["message"]
    assert len(chat_server.requests) == 2


def test_blank_question_makes_no_chat_call(auth_client, chat_dataset, chat_server):
    payload = search(auth_client, [chat_dataset.id], "  ", keyword=True, cross_languages=["Chinese"])

    assert payload == {"code": 0, "data": {"total": 0, "chunks": [], "doc_aggs": {}}}
    assert chat_server.requests == []
