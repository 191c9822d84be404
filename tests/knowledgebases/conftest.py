"""Fixtures of dataset tests: team membership, dataset creation through HTTP, and a fake chat server."""

import pytest

from accounts.choices import TenantRole
from accounts.models import Membership
from knowledgebases import services as dataset_services
from tests.fakes.chat_server import FakeChatServer

PROVIDER = "OpenAI-API-Compatible"
CHAT_MODEL = f"fake-chat@fake@{PROVIDER}"
EMBEDDING_MODEL = f"fake-embed@fake@{PROVIDER}"
# Context window of the fake chat model; tests that check batching shrink it.
CONTEXT_TOKENS = 8192
# Vector size of the fake embedding model. The schema already has the HNSW index for 384
# dimensions, so storing RAPTOR summaries does not create an index inside the test's transaction
# (PostgreSQL rejects CREATE INDEX on a table with pending trigger events).
DIMENSION = 384


@pytest.fixture
def chat_server():
    with FakeChatServer(dimension=DIMENSION) as server:
        yield server


@pytest.fixture
def fake_models(user, chat_server):
    """Register the fake server's chat and embedding models for ``user`` and make the chat model the default."""
    dataset_services.add_provider(tenant_id=user.id, provider_name=PROVIDER)
    dataset_services.add_provider_instance(
        tenant_id=user.id,
        provider_name=PROVIDER,
        instance_name="fake",
        api_key="test-key",
        base_url=chat_server.base_url,
        models=[
            dataset_services.ModelInfo(("chat",), "fake-chat", max_tokens=CONTEXT_TOKENS),
            dataset_services.ModelInfo(("embedding",), "fake-embed", max_tokens=512, dimension=chat_server.dimension),
        ],
    )
    dataset_services.set_default_model(tenant_id=user.id, model_type="chat", reference=CHAT_MODEL)
    return chat_server


@pytest.fixture
def join_team():
    """Make a user a normal member of another user's tenant."""

    def join(member, owner):
        Membership.objects.create(tenant_id=owner.id, user=member, role=TenantRole.NORMAL)

    return join


@pytest.fixture
def create_dataset(auth_client):
    """Create a dataset through ``POST /datasets`` and return its API object."""

    def create(client=None, **fields):
        body = {"name": "dataset"} | fields
        response = (client or auth_client).post("/api/v1/datasets", body, format="json")
        payload = response.json()
        assert payload["code"] == 0, payload
        return payload["data"]

    return create
