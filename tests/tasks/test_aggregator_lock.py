"""The aggregator's Redis lock and the single-writer guarantee between aggregator processes."""

import os
import subprocess
import sys
import time

import pytest
import redis
from django.conf import settings

from tasks.locks import RedisLock


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.delete("ragflow-test:lock")
    client.close()


def test_second_holder_rejected(redis_client):
    first = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=5)
    second = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=5)

    assert first.acquire()
    assert not second.acquire()
    assert first.held()
    assert not second.held()


def test_release_checks_token(redis_client):
    first = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=5)
    second = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=5)
    first.acquire()

    assert not second.release()
    assert first.held()
    assert first.release()
    assert second.acquire()


def test_expired_lock_taken_over(redis_client):
    first = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=0.2)
    second = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=5)
    first.acquire()
    time.sleep(0.3)

    assert second.acquire()
    assert not first.renew()
    assert not first.release()
    assert second.held()


def test_renew_extends_expiry(redis_client):
    lock = RedisLock(redis_client, "ragflow-test:lock", ttl_seconds=0.3)
    lock.acquire()
    for _ in range(3):
        time.sleep(0.15)
        assert lock.renew()

    assert lock.held()


def _aggregator_env() -> dict:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["REDIS_TEST_DB"] = str(settings.REDIS_TEST_DB)
    env["REDIS_KEY_PREFIX"] = settings.REDIS_KEY_PREFIX
    return env


def test_two_aggregators_one_writer():
    client = redis.Redis.from_url(settings.REDIS_URL)
    lock_name = f"{settings.REDIS_KEY_PREFIX}:aggregator:lock"
    command = [sys.executable, "manage.py", "aggregate_progress", "--interval", "0.2"]
    first = subprocess.Popen(command, cwd=settings.BASE_DIR, env=_aggregator_env(), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while client.get(lock_name) is None:
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first aggregator never took the lock"
            time.sleep(0.1)
        holder = client.get(lock_name)

        second = subprocess.run(
            [*command, "--once"], cwd=settings.BASE_DIR, env=_aggregator_env(), capture_output=True, text=True, timeout=60
        )

        assert second.returncode == 0, second.stderr
        assert "Another aggregator holds" in second.stderr
        assert client.get(lock_name) == holder
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert client.get(lock_name) is None, "a stopped aggregator must release its lock"
    client.close()
