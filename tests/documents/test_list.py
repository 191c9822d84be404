"""GET /datasets/{id}/documents: paging, order, filters and their errors."""

import json

import pytest

from documents.choices import RunStatus
from documents.models import Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_documents(upload, dataset):
    body = upload(dataset.id, ("alpha.txt", b"a"), ("beta.md", b"b"), ("gamma.pdf", b"%PDF-1.4\n"))
    return {doc["name"]: doc for doc in body["data"]}


def list_documents(client, dataset_id, params=None):
    response = client.get(f"/api/v1/datasets/{dataset_id}/documents", params or {})
    assert response.status_code == 200
    return response.json()


def names(body):
    return [doc["name"] for doc in body["data"]["docs"]]


def test_list_envelope_and_fields(auth_client, dataset, three_documents, user):
    body = list_documents(auth_client, dataset.id)

    assert body["code"] == 0
    assert body["message"] == "success"
    assert body["data"]["total"] == 3
    doc = body["data"]["docs"][0]
    assert doc["run"] == "UNSTART"
    assert doc["chunk_count"] == 0
    assert doc["token_count"] == 0
    assert doc["nickname"] == user.nickname
    assert doc["pipeline_name"] is None
    assert doc["meta_fields"] == {}
    assert doc["create_date"].endswith("GMT")
    assert isinstance(doc["create_time"], int)


def test_list_default_order_is_newest_first(auth_client, dataset, uploaded):
    for name in ("one.txt", "two.txt", "three.txt"):
        uploaded(name)

    assert names(list_documents(auth_client, dataset.id)) == ["three.txt", "two.txt", "one.txt"]
    assert names(list_documents(auth_client, dataset.id, {"desc": "False"})) == ["one.txt", "two.txt", "three.txt"]


def test_list_orders_by_name(auth_client, dataset, three_documents):
    body = list_documents(auth_client, dataset.id, {"orderby": "name", "desc": "false"})

    assert names(body) == ["alpha.txt", "beta.md", "gamma.pdf"]


def test_list_rejects_unknown_orderby(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"orderby": "size"})

    assert body == {"code": 101, "message": "invalid orderby field: size"}


def test_list_pages(auth_client, dataset, three_documents):
    first = list_documents(auth_client, dataset.id, {"page": 1, "page_size": 2, "orderby": "name", "desc": "false"})
    second = list_documents(auth_client, dataset.id, {"page": 2, "page_size": 2, "orderby": "name", "desc": "false"})

    assert names(first) == ["alpha.txt", "beta.md"]
    assert names(second) == ["gamma.pdf"]
    assert second["data"]["total"] == 3


@pytest.mark.parametrize("params", [{"page": "a"}, {"page": "-1"}, {"page_size": "0"}, {"page_size": "x"}])
def test_list_invalid_paging_falls_back(auth_client, dataset, three_documents, params):
    body = list_documents(auth_client, dataset.id, params)

    assert body["code"] == 0
    assert len(body["data"]["docs"]) == 3


def test_list_page_size_over_100(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"page_size": 101})

    assert body == {"code": 101, "message": "page_size must be less than or equal to 100"}


def test_list_by_keywords(auth_client, dataset, three_documents):
    assert names(list_documents(auth_client, dataset.id, {"keywords": "ALP"})) == ["alpha.txt"]


def test_list_by_id(auth_client, dataset, three_documents):
    doc_id = three_documents["beta.md"]["id"]

    body = list_documents(auth_client, dataset.id, {"id": doc_id, "keywords": "nothing-matches"})

    assert names(body) == ["beta.md"]


def test_list_by_unknown_id(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"id": "f" * 32})

    assert body == {"code": 102, "message": f"you don't own the document {'f' * 32}"}


def test_list_by_name(auth_client, dataset, three_documents):
    assert names(list_documents(auth_client, dataset.id, {"name": "gamma.pdf"})) == ["gamma.pdf"]
    assert list_documents(auth_client, dataset.id, {"name": "nope.txt"}) == {
        "code": 102,
        "message": "you don't own the document nope.txt",
    }


def test_list_by_ids(auth_client, dataset, three_documents):
    ids = [three_documents["alpha.txt"]["id"], three_documents["gamma.pdf"]["id"]]

    body = list_documents(auth_client, dataset.id, {"ids": ids, "orderby": "name", "desc": "false"})

    assert names(body) == ["alpha.txt", "gamma.pdf"]


def test_list_rejects_id_with_ids(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"id": "a", "ids": ["b"]})

    assert body == {"code": 102, "message": "Should not provide both 'id':a and 'ids'['b']"}


def test_list_rejects_over_100_ids(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"ids": [f"{i:032x}" for i in range(101)]})

    assert body["code"] == 101
    assert "at most 100" in body["message"]


def test_list_by_suffix_and_type(auth_client, dataset, three_documents):
    assert names(list_documents(auth_client, dataset.id, {"suffix": ["pdf", "md"], "orderby": "name", "desc": "false"})) == [
        "beta.md",
        "gamma.pdf",
    ]
    assert names(list_documents(auth_client, dataset.id, {"types": "pdf"})) == ["gamma.pdf"]


def test_list_rejects_unknown_type(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"types": "spreadsheet"})

    assert body == {"code": 102, "message": "Invalid filter conditions: spreadsheet type"}


def test_list_by_run_status(auth_client, dataset, three_documents):
    Document.objects.filter(pk=three_documents["beta.md"]["id"]).update(run=RunStatus.DONE)

    assert names(list_documents(auth_client, dataset.id, {"run": "DONE"})) == ["beta.md"]
    assert names(list_documents(auth_client, dataset.id, {"run_status": "3"})) == ["beta.md"]
    assert len(list_documents(auth_client, dataset.id, {"run": "unstart"})["data"]["docs"]) == 2


def test_list_rejects_unknown_run_status(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"run": ["DONE", "LATER"]})

    assert body == {"code": 102, "message": "Invalid filter run status conditions: LATER"}


def test_list_by_create_time(auth_client, dataset, three_documents):
    Document.objects.filter(name="alpha.txt").update(create_time=1000)
    Document.objects.filter(name="beta.md").update(create_time=2000)
    Document.objects.filter(name="gamma.pdf").update(create_time=3000)

    body = list_documents(auth_client, dataset.id, {"create_time_from": 1500, "create_time_to": 2500})

    assert names(body) == ["beta.md"]
    assert body["data"]["total"] == 1


def test_list_rejects_non_integer_time(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"create_time_from": "yesterday"})

    assert body["code"] == 101
    assert "create_time_from must be an integer" in body["message"]


def test_list_by_metadata(auth_client, dataset, three_documents):
    Document.objects.filter(name="alpha.txt").update(meta_fields={"author": "ann", "tags": ["x", "y"]})
    Document.objects.filter(name="beta.md").update(meta_fields={"author": "bob", "year": 2020})

    assert names(list_documents(auth_client, dataset.id, {"metadata": json.dumps({"author": ["ann", "carl"]})})) == ["alpha.txt"]
    assert names(list_documents(auth_client, dataset.id, {"metadata": json.dumps({"tags": "y"})})) == ["alpha.txt"]
    assert names(list_documents(auth_client, dataset.id, {"metadata": json.dumps({"empty_metadata": True})})) == ["gamma.pdf"]
    assert names(list_documents(auth_client, dataset.id, {"return_empty_metadata": "true"})) == ["gamma.pdf"]


def test_list_by_metadata_condition(auth_client, dataset, three_documents):
    Document.objects.filter(name="alpha.txt").update(meta_fields={"author": "ann", "year": 2019})
    Document.objects.filter(name="beta.md").update(meta_fields={"author": "bob", "year": 2021})
    condition = {"logic": "and", "conditions": [{"name": "year", "comparison_operator": ">", "value": "2020"}]}
    either = {
        "logic": "or",
        "conditions": [
            {"name": "author", "comparison_operator": "start with", "value": "an"},
            {"name": "author", "comparison_operator": "=", "value": "bob"},
        ],
    }

    assert names(list_documents(auth_client, dataset.id, {"metadata_condition": json.dumps(condition)})) == ["beta.md"]
    assert sorted(names(list_documents(auth_client, dataset.id, {"metadata_condition": json.dumps(either)}))) == [
        "alpha.txt",
        "beta.md",
    ]


def test_list_rejects_invalid_metadata_condition(auth_client, dataset):
    body = list_documents(auth_client, dataset.id, {"metadata_condition": "{not json"})

    assert body == {"code": 102, "message": "metadata_condition must be valid JSON: {not json."}


def test_list_facets(auth_client, dataset, three_documents):
    body = list_documents(auth_client, dataset.id, {"type": "filter"})

    assert body["code"] == 0
    assert body["data"]["total"] == 3
    assert body["data"]["filter"]["suffix"] == {"txt": 1, "md": 1, "pdf": 1}
    assert body["data"]["filter"]["run_status"] == {"0": 3}


def test_list_other_tenants_dataset(auth_client, make_dataset, other_user):
    foreign = make_dataset(owner=other_user, name="theirs")

    body = list_documents(auth_client, foreign.id)

    assert body == {"code": 102, "message": f"You don't own the dataset {foreign.id}. "}


def test_list_team_dataset_of_joined_tenant(make_dataset, other_user, other_client, user, uploaded):
    from accounts.choices import TenantRole
    from accounts.models import Membership

    team_dataset = make_dataset(name="shared", permission="team")
    uploaded("shared.txt", dataset_id=team_dataset.id)
    Membership.objects.create(tenant_id=user.id, user=other_user, role=TenantRole.NORMAL)

    body = list_documents(other_client, team_dataset.id)

    assert names(body) == ["shared.txt"]
