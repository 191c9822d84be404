"""GET /api/v1/datasets, GET /api/v1/kb and GET /api/v1/datasets/<id>."""

import uuid

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/datasets"


def get(client, params=None, url=URL):
    response = client.get(url, params or {})
    assert response.status_code == 200
    return response.json()


def test_list_envelope_and_extras(auth_client, create_dataset, user):
    created = create_dataset(name="one")

    payload = get(auth_client)

    assert set(payload) == {"code", "data", "total_datasets"}
    assert payload["total_datasets"] == 1
    item = payload["data"][0]
    assert item["id"] == created["id"]
    assert item["nickname"] == user.nickname
    assert item["tenant_avatar"] == user.avatar
    assert item["embedding_model_name"] == ""
    assert "parsing_status" not in item


def test_list_empty(auth_client):
    assert get(auth_client) == {"code": 0, "data": [], "total_datasets": 0}


def test_list_order_and_paging(auth_client, create_dataset):
    names = [create_dataset(name=f"d{i}")["name"] for i in range(5)]

    newest_first = [d["name"] for d in get(auth_client)["data"]]
    oldest_first = [d["name"] for d in get(auth_client, {"desc": "false"})["data"]]
    page = get(auth_client, {"page": 2, "page_size": 2, "desc": "False"})

    assert newest_first == names[::-1]
    assert oldest_first == names
    assert [d["name"] for d in page["data"]] == names[2:4]
    assert page["total_datasets"] == 5


def test_list_order_by_update_time(auth_client, create_dataset):
    first = create_dataset(name="first")
    create_dataset(name="second")
    auth_client.put(f"{URL}/{first['id']}", {"description": "touched"}, format="json")

    data = get(auth_client, {"orderby": "update_time"})["data"]

    assert data[0]["id"] == first["id"]


def test_list_filter_by_id_and_name(auth_client, create_dataset):
    first = create_dataset(name="first")
    create_dataset(name="second")

    by_id = get(auth_client, {"id": first["id"]})
    by_dashed_id = get(auth_client, {"id": str(uuid.UUID(first["id"]))})
    by_name = get(auth_client, {"name": "second"})
    mismatch = get(auth_client, {"id": first["id"], "name": "second"})

    assert [d["name"] for d in by_id["data"]] == ["first"]
    assert [d["name"] for d in by_dashed_id["data"]] == ["first"]
    assert [d["name"] for d in by_name["data"]] == ["second"]
    assert mismatch == {"code": 0, "data": [], "total_datasets": 0}


def test_list_filter_by_ids(auth_client, create_dataset, other_client):
    first = create_dataset(name="first")
    second = create_dataset(name="second")
    create_dataset(name="third")
    foreign = create_dataset(client=other_client, name="foreign")

    repeated = auth_client.get(URL, {"ids": [first["id"], foreign["id"]]}).json()
    comma = get(auth_client, {"ids": f"{first['id']},{second['id']}"})

    assert [d["name"] for d in repeated["data"]] == ["first"]
    assert sorted(d["name"] for d in comma["data"]) == ["first", "second"]


def test_list_ext_filters(auth_client, create_dataset):
    create_dataset(name="qa set", chunk_method="qa")
    create_dataset(name="plain")

    by_method = get(auth_client, {"ext": '{"parser_id": "qa"}'})
    by_keyword = get(auth_client, {"ext": '{"keywords": "PLA"}'})

    assert [d["name"] for d in by_method["data"]] == ["qa set"]
    assert [d["name"] for d in by_keyword["data"]] == ["plain"]


def test_list_include_parsing_status(auth_client, create_dataset):
    create_dataset(name="one")

    item = get(auth_client, {"include_parsing_status": "true"})["data"][0]

    assert item["parsing_status"] == {
        "unstart_count": 0,
        "running_count": 0,
        "cancel_count": 0,
        "done_count": 0,
        "fail_count": 0,
    }


def test_list_embedding_model_name_for_model_id(auth_client, create_dataset):
    model_id = get(auth_client, url="/api/v1/models")["data"][0]["model_id"]
    create_dataset(name="by id", embedding_model=model_id)

    item = get(auth_client)["data"][0]

    assert item["embedding_model_name"] == "all-MiniLM-L6-v2@default@Builtin"


def test_list_unknown_id_or_name(auth_client, user):
    unknown = uuid.uuid1().hex

    by_id = get(auth_client, {"id": unknown})
    by_name = get(auth_client, {"name": "missing"})

    assert by_id == {"code": 102, "message": f"User '{user.id}' lacks permission for dataset '{unknown}'"}
    assert by_name == {"code": 102, "message": f"User '{user.id}' lacks permission for dataset 'missing'"}


def test_list_id_and_ids_together(auth_client, create_dataset):
    dataset_id = create_dataset()["id"]

    payload = auth_client.get(URL, {"id": dataset_id, "ids": [dataset_id]}).json()

    assert payload["code"] == 102
    assert payload["message"] == f"Should not provide both 'id':{dataset_id} and 'ids'{[dataset_id]}"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "Field: <page> - Message: <Input should be greater than or equal to 1"),
        ({"page": "a"}, "Input should be a valid integer, unable to parse string as an integer"),
        ({"page_size": 0}, "Field: <page_size> - Message: <Input should be greater than or equal to 1"),
        ({"page_size": 101}, "Input should be less than or equal to 100"),
        ({"orderby": "name"}, "Input should be 'create_time' or 'update_time'"),
        ({"desc": "maybe"}, "Input should be a valid boolean, unable to interpret input"),
        ({"id": ""}, "Invalid UUID format"),
        ({"id": "not-a-uuid"}, "Invalid UUID format"),
        ({"ids": "bad"}, "Invalid UUID format"),
        ({"unknown": "1"}, "Field: <unknown> - Message: <Extra inputs are not permitted"),
        ({"ext": "{bad"}, "ext must be a JSON object"),
    ],
)
def test_list_rejects_bad_query(auth_client, params, message):
    payload = get(auth_client, params)

    assert payload["code"] == 101
    assert message in payload["message"]


def test_list_rejects_duplicate_ids(auth_client):
    same = uuid.uuid1().hex

    payload = auth_client.get(URL, {"ids": [same, same]}).json()

    assert payload["code"] == 101
    assert f"Duplicate ids: '{same}'" in payload["message"]


def test_list_rejects_too_many_ids(auth_client):
    payload = auth_client.get(URL, {"ids": [uuid.uuid1().hex for _ in range(101)]}).json()

    assert payload["code"] == 101
    assert "ids must contain at most 100 ids" in payload["message"]


def test_kb_alias_matches_datasets_list(auth_client, create_dataset):
    create_dataset(name="one")

    datasets = get(auth_client)
    kb = get(auth_client, url="/api/v1/kb")

    assert kb == datasets


def test_kb_alias_validates_query(auth_client):
    assert get(auth_client, {"page_size": 101}, url="/api/v1/kb")["code"] == 101


def test_get_one_dataset(auth_client, create_dataset):
    created = create_dataset(name="one")

    payload = get(auth_client, url=f"{URL}/{created['id']}")

    assert payload["code"] == 0
    assert payload["data"]["name"] == "one"
    assert payload["data"]["size"] == 0
    assert payload["data"]["connectors"] == []
    assert payload["data"]["parser_config"] == created["parser_config"]


@pytest.mark.parametrize("dataset_id", [uuid.uuid1().hex, "malformed"])
def test_get_unknown_dataset(auth_client, user, dataset_id):
    payload = get(auth_client, url=f"{URL}/{dataset_id}")

    assert payload == {"code": 102, "message": f"User '{user.id}' lacks permission for dataset '{dataset_id}'"}


def test_team_member_sees_team_datasets_only(auth_client, user, other_user, other_client, create_dataset, join_team):
    join_team(user, other_user)
    team = create_dataset(client=other_client, name="team set", permission="team")
    private = create_dataset(client=other_client, name="private set", permission="me")
    own = create_dataset(name="own set")

    listed = {d["name"] for d in get(auth_client)["data"]}
    team_get = get(auth_client, url=f"{URL}/{team['id']}")
    private_get = get(auth_client, url=f"{URL}/{private['id']}")
    private_by_id = get(auth_client, {"id": private["id"]})

    assert listed == {"team set", own["name"]}
    assert team_get["data"]["tenant_id"] == other_user.id
    assert private_get["code"] == 102
    assert private_by_id["code"] == 102


def test_team_member_cannot_change_team_dataset(auth_client, user, other_user, other_client, create_dataset, join_team):
    join_team(user, other_user)
    team = create_dataset(client=other_client, name="team set", permission="team")

    update = auth_client.put(f"{URL}/{team['id']}", {"name": "taken over"}, format="json").json()
    delete = auth_client.delete(URL, {"ids": [team["id"]]}, format="json").json()

    assert update == {"code": 102, "message": f"User '{user.id}' lacks permission for dataset '{team['id']}'"}
    assert delete["code"] == 102
    assert get(other_client, url=f"{URL}/{team['id']}")["data"]["name"] == "team set"


def test_invited_user_sees_no_team_datasets(auth_client, user, other_user, other_client, create_dataset):
    from accounts.models import Membership

    Membership.objects.create(tenant_id=other_user.id, user=user, role="invite")
    create_dataset(client=other_client, name="team set", permission="team")

    assert get(auth_client)["data"] == []
