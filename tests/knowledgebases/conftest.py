"""Fixtures of dataset tests: a second tenant with its own key, and dataset creation through HTTP."""

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.choices import TenantRole
from accounts.models import Membership


def client_for(user) -> APIClient:
    _, key = account_services.create_api_key(tenant_id=user.id, created_by=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def other_user(make_user):
    return make_user(nickname="other")


@pytest.fixture
def other_client(other_user):
    """A client acting for a second tenant that shares nothing with ``user``."""
    return client_for(other_user)


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
