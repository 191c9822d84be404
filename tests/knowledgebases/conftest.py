"""Fixtures of dataset tests: a second tenant with its own key, and dataset creation through HTTP."""

import pytest

from accounts.choices import TenantRole
from accounts.models import Membership


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
