"""Fixtures of document tests: private file storage, datasets, a second tenant and upload helpers."""

import io

import pytest

from knowledgebases import services as dataset_services
from tests.corpus import DOCS

CORPUS = DOCS


class NamedBytes(io.BytesIO):
    """An in-memory file whose name is sent unchanged (Django's upload classes shorten long names)."""

    def __init__(self, content: bytes, name: str):
        super().__init__(content)
        self.name = name


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path):
    """Store each test's files in its own directory and return that directory."""
    root = tmp_path / "files"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def make_dataset(user):
    def create(owner=None, name="docs", **fields):
        owner = owner or user
        return dataset_services.create_dataset(tenant_id=owner.id, user=owner, name=name, **fields)

    return create


@pytest.fixture
def dataset(make_dataset):
    return make_dataset()


@pytest.fixture
def upload(auth_client):
    """POST files (``(name, bytes)`` pairs) to a dataset and return the JSON body."""

    def post(dataset_id, *files, client=None, query=""):
        parts = [NamedBytes(content, name) for name, content in files]
        response = (client or auth_client).post(
            f"/api/v1/datasets/{dataset_id}/documents{query}", {"file": parts}, format="multipart"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return post


@pytest.fixture
def uploaded(upload, dataset):
    """Upload one text file to ``dataset`` and return its API object."""

    def create(name="notes.txt", content=b"hello world\n", dataset_id=None):
        body = upload(dataset_id or dataset.id, (name, content))
        assert body["code"] == 0, body
        return body["data"][0]

    return create


def corpus_file(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
