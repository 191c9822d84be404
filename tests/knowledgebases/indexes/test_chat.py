"""The OpenAI-compatible chat client against the fake server: answers, errors, retries, budget, timeouts."""

import pytest

from knowledgebases.chat import (
    ChatBudgetError,
    ChatError,
    OpenAICompatibleChat,
    TransientChatError,
    chat_model_of_dataset,
    estimate_message_tokens,
)
from tests.fakes.chat_server import Reply

MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(chat_server, sleeps):
    return OpenAICompatibleChat(
        name="fake-chat", base_url=chat_server.base_url, api_key="secret", context_tokens=1000,
        attempts=3, backoff_seconds=0.5, backoff_max_seconds=4.0, sleep=sleeps.append,
    )


def test_answer_and_request_body(client, chat_server):
    chat_server.script.append(Reply(content="hello"))

    answer = client.complete(MESSAGES, max_tokens=50)

    assert answer.text == "hello"
    assert answer.finish_reason == "stop"
    request = chat_server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.body == {"model": "fake-chat", "messages": MESSAGES, "max_tokens": 50, "temperature": 0.1}
    assert request.size > 0


def test_retries_429_and_500_then_succeeds(client, chat_server, sleeps):
    chat_server.script.extend([Reply(status=429), Reply(status=500), Reply(content="ok")])

    answer = client.complete(MESSAGES, max_tokens=50)

    assert answer.text == "ok"
    assert len(chat_server.requests) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 0.55
    assert 1.0 <= sleeps[1] <= 1.1


def test_retry_after_header_sets_delay(client, chat_server, sleeps):
    chat_server.script.extend([Reply(status=429, headers={"Retry-After": "3"}), Reply(content="ok")])

    client.complete(MESSAGES, max_tokens=50)

    assert sleeps == [3.0]


def test_gives_up_after_attempts(client, chat_server, sleeps):
    chat_server.script.extend([Reply(status=503)] * 3)

    with pytest.raises(TransientChatError, match="HTTP 503"):
        client.complete(MESSAGES, max_tokens=50)

    assert len(chat_server.requests) == 3


def test_bad_request_is_not_retried(client, chat_server, sleeps):
    chat_server.script.extend([Reply(status=400), Reply(content="never sent")])

    with pytest.raises(ChatError, match="HTTP 400") as raised:
        client.complete(MESSAGES, max_tokens=50)

    assert not isinstance(raised.value, TransientChatError)
    assert len(chat_server.requests) == 1
    assert sleeps == []


def test_prompt_over_budget_is_rejected_unsent(client, chat_server):
    long_messages = [{"role": "user", "content": "word " * 900}]

    with pytest.raises(ChatBudgetError, match="context window of 1000 tokens"):
        client.complete(long_messages, max_tokens=200)

    assert chat_server.requests == []


def test_budget_counts_answer_tokens(client):
    prompt_tokens = estimate_message_tokens(MESSAGES)

    assert client.prompt_budget(200) == 800
    assert prompt_tokens < 20


def test_slow_answer_times_out(chat_server, sleeps):
    client = OpenAICompatibleChat(
        name="fake-chat", base_url=chat_server.base_url, attempts=2, backoff_seconds=0.1,
        read_timeout_seconds=0.3, sleep=sleeps.append,
    )
    chat_server.script.extend([Reply(content="late", delay=1.0), Reply(content="on time")])

    answer = client.complete(MESSAGES, max_tokens=50)

    assert answer.text == "on time"
    assert len(sleeps) == 1


def test_slow_answers_exhaust_attempts(chat_server, sleeps):
    client = OpenAICompatibleChat(
        name="fake-chat", base_url=chat_server.base_url, attempts=2, read_timeout_seconds=0.2, sleep=sleeps.append
    )
    chat_server.script.extend([Reply(content="late", delay=0.6)] * 2)

    with pytest.raises(TransientChatError, match="timed out"):
        client.complete(MESSAGES, max_tokens=50)


def test_truncated_answer_is_flagged(client, chat_server):
    chat_server.script.append(Reply(content='{"a": [1, 2', finish_reason="length"))

    answer = client.complete(MESSAGES, max_tokens=50)

    assert answer.truncated


def test_cancel_check_runs_before_each_attempt(client, chat_server):
    chat_server.script.extend([Reply(status=500), Reply(content="ok")])
    calls = []

    def cancel():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        client.complete(MESSAGES, max_tokens=50, cancel=cancel)

    assert len(chat_server.requests) == 1


@pytest.mark.django_db
def test_dataset_uses_tenant_default_chat_model(index_dataset, chat_server):
    dataset = index_dataset()
    chat_server.script.append(Reply(content="pong"))

    client = chat_model_of_dataset(dataset)

    assert client.name == "fake-chat"
    assert client.base_url == chat_server.base_url
    assert client.context_tokens == 8192
    assert client.complete(MESSAGES, max_tokens=10).text == "pong"
    assert chat_server.requests[0].body["model"] == "fake-chat"


@pytest.mark.django_db
def test_dataset_without_chat_model_is_rejected(user, make_user):
    from knowledgebases import services as dataset_services

    owner = make_user()
    dataset = dataset_services.create_dataset(tenant_id=owner.id, user=owner, name="no chat")

    with pytest.raises(ChatError, match="has no chat model"):
        chat_model_of_dataset(dataset)
