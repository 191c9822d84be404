"""Helpers for dataset tests: create datasets through the API and read them back."""

import pytest


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
