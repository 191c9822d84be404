"""GraphRAG against the fake chat model: extraction, merging, resolution, communities, failures,
incremental runs, cancellation, document deletion and the graph given to retrieval."""

import pytest

from knowledgebases.chat import estimate_message_tokens
from knowledgebases.graph_models import GraphCommunity, GraphDocument, GraphEntity, GraphMention, GraphRelation
from knowledgebases.graph_resolution import RESOLUTION_ANSWER_TOKENS
from knowledgebases.graph_retrieval import knowledge_graph_chunk
from knowledgebases.models import Dataset, TenantModel
from tasks import cancellation
from tasks.choices import TaskStatus
from tests.fakes.chat_server import Reply, bag_of_words_vector
from tests.knowledgebases.indexes.conftest import DIMENSION, add_document, run_inline, start_inline
from tests.knowledgebases.indexes.responders import GraphResponder

pytestmark = pytest.mark.django_db

KNOWN = {
    "Ada Lovelace": ("person", "A mathematician."),
    "Charles Babbage": ("person", "An inventor."),
    "Analytical Engine": ("category", "A machine."),
    "London": ("geo", "A city."),
    "British Government": ("organization", "A government."),
}
DOCUMENT_A = [
    "Ada Lovelace worked with Charles Babbage on the Analytical Engine in London.",
    "Charles Babbage asked the British Government to fund the Analytical Engine.",
]
DOCUMENT_B = ["Ada Lovelace published notes that explain the Analytical Engine in detail."]


@pytest.fixture
def responder(chat_server):
    responder = GraphResponder(known=dict(KNOWN))
    chat_server.responder = responder
    return responder


def entity(dataset, key):
    return GraphEntity.objects.get(dataset=dataset, key=key)


def test_graph_built_from_two_documents(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset()
    document_a = add_document(dataset, "a.txt", DOCUMENT_A)
    document_b = add_document(dataset, "b.txt", DOCUMENT_B)

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert task.progress == 1.0
    assert "Knowledge graph done: 5 entities, 8 relations" in task.progress_msg
    assert task.progress_msg.splitlines()[-1].endswith(")") and "Task done" in task.progress_msg
    assert set(GraphEntity.objects.filter(dataset=dataset).values_list("name", flat=True)) == set(KNOWN)
    ada = entity(dataset, "ada lovelace")
    assert ada.entity_type == "person"
    assert sorted(ada.document_ids) == sorted([document_a.id, document_b.id])
    assert "worked with Charles Babbage" in ada.description
    assert "published notes" in ada.description
    assert ada.embedding_dimension == DIMENSION
    assert ada.pagerank > 0
    assert ada.rank == 3
    relation = GraphRelation.objects.get(dataset=dataset, source_key="ada lovelace", target_key="analytical engine")
    assert relation.weight == 4.0
    assert sorted(relation.document_ids) == sorted([document_a.id, document_b.id])
    assert relation.keywords == ["co-occurrence"]
    assert GraphDocument.objects.filter(dataset=dataset).count() == 2
    assert Dataset.objects.get(pk=dataset.id).graphrag_task_finish_at is not None
    assert len(responder.extraction_texts) == 2


def test_graph_endpoint_returns_node_link_and_mind_map(auth_client, index_dataset, responder):
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)
    start_inline(auth_client, dataset.id, "graph")

    body = auth_client.get(f"/api/v1/datasets/{dataset.id}/graph").json()

    assert body["code"] == 0
    graph = body["data"]["graph"]
    assert graph["directed"] is False
    assert {node["id"] for node in graph["nodes"]} == set(KNOWN)
    assert set(graph["nodes"][0]) == {"id", "entity_name", "entity_type", "description", "pagerank", "rank", "source_id"}
    pageranks = [node["pagerank"] for node in graph["nodes"]]
    assert pageranks == sorted(pageranks, reverse=True)
    edge = graph["edges"][0]
    assert set(edge) == {"source", "target", "src_id", "tgt_id", "description", "keywords", "weight", "source_id"}
    assert all(edge["source"] != edge["target"] for edge in graph["edges"])
    mind_map = body["data"]["mind_map"]
    assert mind_map["id"] == dataset.name
    assert {branch["id"] for branch in mind_map["children"]} == {"person", "category", "geo", "organization"}


def test_long_descriptions_are_summarised(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset()
    long_note = "Ada Lovelace " + "wrote about the engine and its numbers " * 60 + "."
    add_document(dataset, "a.txt", [long_note])
    add_document(dataset, "b.txt", ["Ada Lovelace " + "described loops and cards for the engine " * 60 + "."])

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert entity(dataset, "ada lovelace").description == "Summary of Ada Lovelace."
    summaries = [request for request in chat_server.requests if "The notes below describe" in request.user_prompt]
    assert len(summaries) == 1


def test_general_method_sends_follow_up(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset(graphrag={"method": "general"})
    add_document(dataset, "a.txt", DOCUMENT_A)

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    prompts = [request.user_prompt for request in chat_server.requests]
    assert "as an analyst" in prompts[0]
    assert "answer missed" in prompts[1]
    assert len(chat_server.requests[1].body["messages"]) == 4


def test_failed_piece_is_named_not_fatal(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset(graphrag={"batch_chunk_token_size": 512})
    first = add_document(dataset, "a.txt", DOCUMENT_A)
    add_document(dataset, "b.txt", DOCUMENT_B)
    chat_server.script.extend([Reply(status=400), Reply(status=400)])

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "[WARNING] Extraction of piece 1 (document a.txt): ChatError" in task.progress_msg
    assert "Extraction done: 1 of 2 requests succeeded" in task.progress_msg
    assert not GraphDocument.objects.filter(document=first).exists()
    assert entity(dataset, "ada lovelace").document_ids != [first.id]

    again = start_inline(auth_client, dataset.id, "graph")

    assert again.status == TaskStatus.DONE, again.progress_msg
    assert GraphDocument.objects.filter(document=first).exists()
    assert "Charles Babbage" in set(GraphEntity.objects.filter(dataset=dataset).values_list("name", flat=True))


def test_all_pieces_failing_fails_task(auth_client, index_dataset, chat_server):
    chat_server.responder = lambda body: Reply(content="Sorry, I cannot do that.")
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.FAILED
    assert task.progress == -1
    assert "All 1 extraction requests failed" in task.error
    assert "[ERROR]" in task.progress_msg
    # One first attempt and retry_attempts (1) retries.
    assert len(chat_server.requests) == 2


def test_truncated_answer_is_repaired(auth_client, index_dataset, chat_server):
    cut = '{"entities": [{"name": "Ada Lovelace", "type": "person", "description": "A mathematician."}, {"name": "Lon'
    chat_server.script.append(Reply(content=cut, finish_reason="length"))
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert list(GraphEntity.objects.filter(dataset=dataset).values_list("name", flat=True)) == ["Ada Lovelace"]


def test_empty_graph_ends_without_error(auth_client, index_dataset, chat_server):
    chat_server.responder = lambda body: Reply(content='{"entities": [], "relations": []}')
    dataset = index_dataset(graphrag={"community": True, "resolution": True})
    add_document(dataset, "a.txt", ["Nothing named here at all."])

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "0 entities extracted" in task.progress_msg
    assert GraphEntity.objects.filter(dataset=dataset).count() == 0
    assert len(chat_server.requests) == 1


def test_resolution_merges_in_budgeted_batches(auth_client, index_dataset, responder, chat_server, user):
    names = [f"Northwind Trading Branch {number}" for number in range(1, 25)]
    responder.known.update({name: ("organization", "A branch.") for name in names})
    responder.known.update({"IBM": ("organization", "A company."), "International Business Machines": ("organization", "A company.")})
    responder.same_names = {"IBM", "International Business Machines"}
    TenantModel.objects.filter(tenant_id=user.id, name="fake-chat").update(max_tokens=3000)
    dataset = index_dataset(graphrag={"resolution": True})
    add_document(dataset, "a.txt", [". ".join(names) + "."])
    add_document(dataset, "b.txt", ["IBM sold machines.", "International Business Machines built the machines in London."])

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    batches = [request for request in chat_server.requests if "refer to the same entity" in request.user_prompt]
    assert len(batches) > 1
    for request in batches:
        assert estimate_message_tokens(request.body["messages"]) <= 3000 - RESOLUTION_ANSWER_TOKENS
        assert request.body["max_tokens"] == RESOLUTION_ANSWER_TOKENS
    asked = sum(request.user_prompt.count("\n") for request in batches)
    assert asked >= 24 * 23 // 2
    keys = set(GraphEntity.objects.filter(dataset=dataset).values_list("key", flat=True))
    assert "international business machines" in keys
    assert "ibm" not in keys
    merged = entity(dataset, "international business machines")
    assert "IBM sold machines." in merged.description
    assert "Entity resolution: " in task.progress_msg and ", 1 merged," in task.progress_msg


def test_communities_get_reports(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset(graphrag={"community": True})
    add_document(dataset, "a.txt", DOCUMENT_A)
    add_document(dataset, "b.txt", ["London hosts the British Government."])

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    communities = list(GraphCommunity.objects.filter(dataset=dataset))
    assert communities
    members = [key for community in communities for key in community.entity_keys]
    assert len(members) == len(set(members))
    report = communities[0]
    assert report.title.startswith("Community around ")
    assert report.rating == 7
    assert report.findings[0]["explanation"] == "It links the others."
    assert report.content.startswith(f"# {report.title}")
    assert report.embedding_dimension == DIMENSION
    assert f"{len(communities)} community reports" in task.progress_msg

    requests_before = len(chat_server.requests)
    again = start_inline(auth_client, dataset.id, "graph")

    assert again.status == TaskStatus.DONE, again.progress_msg
    assert len(chat_server.requests) == requests_before
    assert GraphCommunity.objects.filter(dataset=dataset).count() == len(communities)


def test_trace_reports_progress_messages(auth_client, index_dataset, responder):
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)
    task = start_inline(auth_client, dataset.id, "graph")

    body = auth_client.get(f"/api/v1/datasets/{dataset.id}/index?type=graph").json()

    trace = body["data"]
    assert trace["id"] == task.id
    assert trace["progress"] == 1.0
    assert trace["process_duration"] > 0
    assert trace["begin_at"]
    lines = trace["progress_msg"].splitlines()
    assert lines[0].endswith("created task graphrag")
    assert any("Start to build the knowledge graph (light): 1 new of 1 parsed documents" in line for line in lines)
    assert any("Extracting entities from 2 chunks in 1 requests" in line for line in lines)
    assert all(line[2] == ":" and line[5] == ":" for line in lines)


def test_rerun_extracts_only_new_documents(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)
    start_inline(auth_client, dataset.id, "graph")
    add_document(dataset, "b.txt", DOCUMENT_B)
    responder.extraction_texts.clear()

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert responder.extraction_texts == [DOCUMENT_B[0]]
    assert "1 new of 2 parsed documents" in task.progress_msg
    assert len(entity(dataset, "ada lovelace").document_ids) == 2


def test_document_deletion_rebuilds_graph(auth_client, index_dataset, responder):
    dataset = index_dataset()
    document_a = add_document(dataset, "a.txt", DOCUMENT_A)
    document_b = add_document(dataset, "b.txt", DOCUMENT_B + ["Ada Lovelace visited Paris."])
    responder.known["Paris"] = ("geo", "A city.")
    start_inline(auth_client, dataset.id, "graph")
    assert entity(dataset, "paris")

    response = auth_client.delete(f"/api/v1/datasets/{dataset.id}/documents", {"ids": [document_b.id]}, format="json")

    assert response.json()["code"] == 0
    assert not GraphEntity.objects.filter(dataset=dataset, key="paris").exists()
    assert not GraphMention.objects.filter(document_id=document_b.id).exists()
    ada = entity(dataset, "ada lovelace")
    assert ada.document_ids == [document_a.id]
    assert "published notes" not in ada.description
    assert "worked with Charles Babbage" in ada.description
    relation = GraphRelation.objects.get(dataset=dataset, source_key="ada lovelace", target_key="analytical engine")
    assert relation.weight == 2.0
    assert not GraphRelation.objects.filter(dataset=dataset, target_key="paris").exists()
    assert GraphEntity.objects.filter(dataset=dataset, key="london").get().stale is False


def test_cancel_stops_within_one_request(auth_client, index_dataset, responder, chat_server):
    dataset = index_dataset(graphrag={"batch_chunk_token_size": 512})
    for number in range(4):
        add_document(dataset, f"doc{number}.txt", DOCUMENT_A)
    task_id = auth_client.post(f"/api/v1/datasets/{dataset.id}/index?type=graph").json()["data"]["task_id"]

    def cancel_on_second(body):
        if len(chat_server.requests) == 2:
            cancellation.request_cancel([task_id])
        return responder(body)

    chat_server.responder = cancel_on_second
    task = run_inline(task_id)

    assert task.status == TaskStatus.CANCELLED
    assert task.progress == -1
    assert task.progress_msg.endswith("[Canceled]")
    assert len(chat_server.requests) == 2

    body = auth_client.delete(f"/api/v1/datasets/{dataset.id}/index?type=graph").json()

    assert body == {"code": 0, "data": {}}
    assert not GraphMention.objects.filter(dataset=dataset).exists()
    assert not GraphEntity.objects.filter(dataset=dataset).exists()
    assert Dataset.objects.get(pk=dataset.id).graphrag_task_id is None


def test_delete_without_wipe_keeps_graph(auth_client, index_dataset, responder):
    dataset = index_dataset()
    add_document(dataset, "a.txt", DOCUMENT_A)
    task = start_inline(auth_client, dataset.id, "graph")

    body = auth_client.delete(f"/api/v1/datasets/{dataset.id}/index?type=graph&wipe=false").json()

    assert body == {"code": 0, "data": {}}
    assert GraphEntity.objects.filter(dataset=dataset).count() == 5
    assert auth_client.get(f"/api/v1/datasets/{dataset.id}/index?type=graph").json() == {"code": 0, "data": {}}
    assert not type(task).objects.filter(pk=task.id).exists()


def test_knowledge_graph_chunk_for_question(auth_client, index_dataset, responder):
    dataset = index_dataset(graphrag={"community": True})
    add_document(dataset, "a.txt", DOCUMENT_A)
    start_inline(auth_client, dataset.id, "graph")
    question = "What did Ada Lovelace build?"

    chunk = knowledge_graph_chunk(datasets=[dataset], question=question, question_vector=bag_of_words_vector(question, DIMENSION))

    assert chunk["document_keyword"] == "Related content in Knowledge Graph"
    assert chunk["content"].startswith("## Entities\n- Ada Lovelace (person, relevance 1.00)")
    assert "## Relations" in chunk["content"]
    assert "## Community reports" in chunk["content"]
    assert "Ada Lovelace" in chunk["important_keywords"]


def test_knowledge_graph_chunk_without_graph(index_dataset):
    dataset = index_dataset()

    assert knowledge_graph_chunk(datasets=[dataset], question="anything", question_vector=[0.1] * DIMENSION) is None


def test_reparsed_document_is_extracted_again(auth_client, index_dataset, responder):
    dataset = index_dataset()
    document = add_document(dataset, "a.txt", DOCUMENT_A)
    start_inline(auth_client, dataset.id, "graph")
    GraphDocument.objects.filter(document=document).update(chunk_count=1)
    responder.extraction_texts.clear()

    task = start_inline(auth_client, dataset.id, "graph")

    assert task.status == TaskStatus.DONE, task.progress_msg
    assert "1 new of 1 parsed documents" in task.progress_msg
    assert len(responder.extraction_texts) == 1
    assert GraphDocument.objects.get(document=document).chunk_count == 2
