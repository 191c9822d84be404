"""The whole ingestion path: upload, start, a real worker, the aggregator, and the stored chunks."""

import time

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from documents.chunking import chunk, default_token_counter
from documents.choices import RunStatus
from documents.models import Chunk, Document
from documents.parsers import parse
from knowledgebases.models import Dataset
from tasks.choices import TaskStatus
from tasks.models import Task
from tests.tasks.conftest import wait_for_run
from tests.corpus import DOCS

pytestmark = pytest.mark.slow

CORPUS = DOCS


def paragraphs(count: int, topic: str = "river") -> bytes:
    lines = [
        f"Paragraph {index} describes the {topic} survey: water levels, sediment samples and notes "
        f"taken by team {index % 7} during the week of observation number {index}."
        for index in range(count)
    ]
    return "\n\n".join(lines).encode()


@pytest.fixture
def dataset_id(auth_client, transactional_db):
    response = auth_client.post(
        "/api/v1/datasets", {"name": "pipeline", "parser_config": {"chunk_token_num": 64}}, format="json"
    )
    return response.json()["data"]["id"]


@pytest.fixture
def upload(auth_client, dataset_id):
    def send(content: bytes, name: str) -> str:
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = auth_client.post(
            f"/api/v1/datasets/{dataset_id}/documents", {"file": SimpleUploadedFile(name, content)}, format="multipart"
        )
        body = response.json()
        assert body["code"] == 0, body
        return body["data"][0]["id"]

    return send


def expected_contents(content: bytes, name: str, parser_config: dict) -> list[str]:
    parsed = parse(content, name)
    return [item.content for item in chunk(parsed, "naive", parser_config, default_token_counter())]


def start_parse(client, dataset_id, document_ids, family="sdk"):
    if family == "sdk":
        return client.post(f"/api/v1/datasets/{dataset_id}/chunks", {"document_ids": document_ids}, format="json")
    return client.post(f"/api/v1/datasets/{dataset_id}/documents/parse", {"document_ids": document_ids}, format="json")


def test_text_file_parsed_to_done(auth_client, dataset_id, upload, start_worker):
    content = paragraphs(12)
    document_id = upload(content, "survey.txt")
    worker = start_worker()

    response = start_parse(auth_client, dataset_id, [document_id])

    assert response.json() == {"code": 0}
    document = wait_for_run(document_id, worker=worker)
    assert document.run == RunStatus.DONE, document.progress_msg
    chunks = list(Chunk.objects.filter(document_id=document_id).order_by("position"))
    config = Document.objects.get(pk=document_id).parser_config
    assert [item.content for item in chunks] == expected_contents(content, "survey.txt", config)
    assert document.chunk_num == len(chunks) > 1
    assert document.token_num == sum(item.token_count for item in chunks) > 0
    assert document.progress == 1.0
    assert "Task done (" in document.progress_msg
    assert document.process_duration > 0
    assert all(item.embedding_dimension == 384 and len(item.embedding) == 384 for item in chunks)
    assert all(item.search_vector for item in chunks)
    dataset = Dataset.objects.get(pk=dataset_id)
    assert dataset.chunk_num == len(chunks)
    assert dataset.token_num == document.token_num

    listed = auth_client.get(f"/api/v1/datasets/{dataset_id}/documents", {"id": document_id}).json()
    row = listed["data"]["docs"][0]
    assert row["run"] == "DONE"
    assert row["chunk_count"] == len(chunks)
    assert row["progress"] == 1.0


def test_corrupt_pdf_fails_with_reason(auth_client, dataset_id, upload, start_worker):
    document_id = upload(b"%PDF-1.4\n%%EOF\n", "broken.pdf")
    worker = start_worker()

    start_parse(auth_client, dataset_id, [document_id], family="rest")

    document = wait_for_run(document_id, worker=worker)
    assert document.run == RunStatus.FAIL
    assert document.progress == -1
    assert "[ERROR]" in document.progress_msg
    assert not Chunk.objects.filter(document_id=document_id).exists()


def test_stop_mid_run_then_parse_again(auth_client, dataset_id, upload, start_worker):
    big = upload(paragraphs(400), "big.txt")
    small = upload(paragraphs(3, "lake"), "small.txt")
    worker = start_worker()
    start_parse(auth_client, dataset_id, [big], family="rest")
    deadline = time.monotonic() + 60
    while not Task.objects.filter(document_id=big, status=TaskStatus.RUNNING, progress__gt=0.3).exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.2)

    response = auth_client.post(f"/api/v1/datasets/{dataset_id}/documents/stop", {"document_ids": [big]}, format="json")

    assert response.json() == {"code": 0, "data": {"success_count": 1}}
    document = Document.objects.get(pk=big)
    assert document.run == RunStatus.CANCEL
    assert document.progress_msg.endswith("Task stopped by user.")
    # The worker drops the cancelled work and takes the next job.
    start_parse(auth_client, dataset_id, [small])
    assert wait_for_run(small, worker=worker).run == RunStatus.DONE
    assert not Chunk.objects.filter(document_id=big).exists()
    assert Document.objects.get(pk=big).run == RunStatus.CANCEL

    start_parse(auth_client, dataset_id, [big])
    assert wait_for_run(big, worker=worker).run == RunStatus.DONE
    assert Chunk.objects.filter(document_id=big).count() == Document.objects.get(pk=big).chunk_num > 0


def test_killed_worker_task_retried(auth_client, dataset_id, upload, start_worker):
    content = paragraphs(300)
    document_id = upload(content, "long.txt")
    first = start_worker()
    start_parse(auth_client, dataset_id, [document_id])
    deadline = time.monotonic() + 60
    while not Task.objects.filter(document_id=document_id, status=TaskStatus.RUNNING, progress__gt=0.4).exists():
        assert time.monotonic() < deadline, first.output()
        time.sleep(0.1)

    first.kill()
    second = start_worker()

    document = wait_for_run(document_id, worker=second)
    assert document.run == RunStatus.DONE, document.progress_msg
    assert "lost" in document.progress_msg
    task = Task.objects.get(document_id=document_id)
    assert task.attempts == 2
    stored = list(Chunk.objects.filter(document_id=document_id).order_by("position").values_list("content", flat=True))
    assert stored == expected_contents(content, "long.txt", Document.objects.get(pk=document_id).parser_config)
    assert document.chunk_num == len(stored)


def test_delete_document_while_running(auth_client, dataset_id, upload, start_worker):
    big = upload(paragraphs(300), "doomed.txt")
    small = upload(paragraphs(3, "forest"), "after.txt")
    worker = start_worker()
    start_parse(auth_client, dataset_id, [big])
    deadline = time.monotonic() + 60
    while not Task.objects.filter(document_id=big, status=TaskStatus.RUNNING).exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)

    response = auth_client.delete(f"/api/v1/datasets/{dataset_id}/documents", {"ids": [big]}, format="json")

    assert response.json()["code"] == 0
    start_parse(auth_client, dataset_id, [small])
    assert wait_for_run(small, worker=worker).run == RunStatus.DONE
    assert not Chunk.objects.filter(document_id=big).exists()
    assert not Task.objects.filter(document_id=big).exists()
    assert Dataset.objects.get(pk=dataset_id).chunk_num == Chunk.objects.filter(dataset_id=dataset_id).count()


def test_lost_queue_recovered(auth_client, dataset_id, upload, start_worker):
    document_id = upload(paragraphs(4), "queued.txt")
    start_parse(auth_client, dataset_id, [document_id])
    redis.Redis.from_url(settings.REDIS_URL).flushdb()

    call_command("recover_tasks")
    worker = start_worker()

    assert wait_for_run(document_id, worker=worker).run == RunStatus.DONE


def test_nul_bytes_removed_before_storing(dataset_id, upload):
    from django.db import transaction

    from documents.chunk_store import ChunkData, replace_task_chunks

    document_id = upload(b"placeholder", "nul.txt")
    task = Task.objects.create(dataset_id=dataset_id, document_id=document_id)
    rows = [ChunkData(content="PDF text\x00 with NUL", embedding=[0.1] * 384, position=0, questions=["why\x00?"])]

    with transaction.atomic():
        count, _ = replace_task_chunks(task_id=task.id, dataset_id=dataset_id, document_id=document_id, chunks=rows)

    stored = Chunk.objects.get(document_id=document_id)
    assert count == 1
    assert stored.content == "PDF text with NUL"
    assert stored.questions == ["why?"]


def test_worker_lost_after_last_attempt(auth_client, dataset_id, upload, start_worker, settings):
    settings.TASK_MAX_ATTEMPTS = 1
    document_id = upload(paragraphs(300), "lost.txt")
    worker = start_worker()
    start_parse(auth_client, dataset_id, [document_id])
    deadline = time.monotonic() + 60
    while not Task.objects.filter(document_id=document_id, status=TaskStatus.RUNNING, progress__gt=0.4).exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)

    worker.kill()

    document = wait_for_run(document_id)
    assert document.run == RunStatus.FAIL
    assert "worker lost" in document.progress_msg
    assert Task.objects.get(document_id=document_id).error == "worker lost"
    assert not Chunk.objects.filter(document_id=document_id).exists()


def test_pdf_split_into_page_tasks(auth_client, dataset_id, start_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = (CORPUS / "layout-parser-paper-2p.pdf").read_bytes()
    response = auth_client.post(
        f"/api/v1/datasets/{dataset_id}/documents",
        {"file": SimpleUploadedFile("paper.pdf", pdf)},
        format="multipart",
    ).json()
    document_id = response["data"][0]["id"]
    auth_client.patch(
        f"/api/v1/datasets/{dataset_id}/documents/{document_id}",
        {"parser_config": {"task_page_size": 1}},
        format="json",
    )
    worker = start_worker()

    start_parse(auth_client, dataset_id, [document_id])

    document = wait_for_run(document_id, worker=worker)
    assert document.run == RunStatus.DONE, document.progress_msg
    tasks = list(Task.objects.filter(document_id=document_id).order_by("from_page"))
    assert [(task.from_page, task.to_page) for task in tasks] == [(0, 1), (1, 2)]
    assert "Page(1~1): Task done" in document.progress_msg
    assert "Page(2~2): Task done" in document.progress_msg
    page_lists = Chunk.objects.filter(document_id=document_id).values_list("page_numbers", flat=True)
    assert {1, 2} <= {page for numbers in page_lists for page in numbers}
    assert document.chunk_num == sum(task.chunk_count for task in tasks)
