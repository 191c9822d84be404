"""Documents stored in an S3-compatible server: moto's standalone server on 127.0.0.1."""

import boto3
import pytest
from moto.server import ThreadedMotoServer

from documents.models import Document

pytestmark = pytest.mark.django_db

BUCKET = "ragflow-documents"
# moto accepts any credentials; these are not secrets.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


@pytest.fixture
def s3_bucket(settings, monkeypatch):
    """Start an S3 server on a free loopback port, point the default storage at it, return a client."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    yield client
    server.stop()


def bucket_keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_s3_upload_download_delete(auth_client, dataset, upload, s3_bucket, django_capture_on_commit_callbacks):
    content = "Grüße aus dem Speicher\n".encode()
    [doc] = upload(dataset.id, ("grüße.txt", content))["data"]

    assert bucket_keys(s3_bucket) == [f"{dataset.id}/{doc['id']}/original.txt"]
    assert s3_bucket.get_object(Bucket=BUCKET, Key=doc["location"])["Body"].read() == content

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")
    assert b"".join(response.streaming_content) == content

    with django_capture_on_commit_callbacks(execute=True):
        body = auth_client.delete(f"/api/v1/datasets/{dataset.id}/documents", {"ids": [doc["id"]]}, format="json").json()
    assert body == {"code": 0, "data": {"deleted": 1}}
    assert bucket_keys(s3_bucket) == []


def test_s3_rejected_upload_writes_nothing(dataset, upload, s3_bucket):
    body = upload(dataset.id, ("fake.docx", b"plain text, not a zip"))

    assert body["code"] == 500
    assert bucket_keys(s3_bucket) == []
    assert Document.objects.count() == 0


def test_s3_missing_object_on_download(auth_client, dataset, upload, s3_bucket):
    [doc] = upload(dataset.id, ("gone.txt", b"data"))["data"]
    s3_bucket.delete_object(Bucket=BUCKET, Key=doc["location"])

    response = auth_client.get(f"/api/v1/datasets/{dataset.id}/documents/{doc['id']}")

    assert response.json() == {"code": 102, "message": "This file is empty."}
