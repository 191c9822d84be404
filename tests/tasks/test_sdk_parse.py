"""ragflow-sdk's DataSet.parse_documents() against a live server, a real worker and the aggregator."""

import subprocess
import sys

import pytest
from django.conf import settings
from ragflow_sdk import RAGFlow

from tests.tasks.conftest import worker_env

pytestmark = pytest.mark.slow


@pytest.fixture
def aggregator():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "aggregate_progress", "--interval", "0.3"],
        cwd=settings.BASE_DIR, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_sdk_parse_documents_until_done(live_server, api_key, start_worker, aggregator):
    start_worker()
    rag = RAGFlow(api_key=api_key, base_url=live_server.url)
    dataset = rag.create_dataset(name="sdk parse")
    documents = dataset.upload_documents(
        [
            {"display_name": "alpha.txt", "blob": b"Alpha notes about glaciers and ice cores.\n\nSecond paragraph."},
            {"display_name": "beta.md", "blob": b"# Beta\n\nA short page about coral reefs and their fish."},
        ]
    )

    finished = dataset.parse_documents([document.id for document in documents])

    assert sorted(status for _, status, _, _ in finished) == ["DONE", "DONE"]
    listed = {document.name: document for document in dataset.list_documents()}
    for name in ("alpha.txt", "beta.md"):
        assert listed[name].run == "DONE"
        assert listed[name].chunk_count >= 1
        assert listed[name].token_count > 0
        assert "Task done" in listed[name].progress_msg
        assert listed[name].process_duration > 0
