"""Fixtures shared by the whole suite: API clients, users and Redis clean-up."""

import itertools

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import services as account_services

_emails = itertools.count(1)


@pytest.fixture(autouse=True, scope="session")
def _isolated_redis():
    """Empty the suite's own Redis database before and after the run (never the developer's)."""
    assert settings.REDIS_URL.rsplit("/", 1)[-1] == str(settings.REDIS_TEST_DB)
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


@pytest.fixture(autouse=True, scope="session")
def _close_retrieval_helper(django_db_setup):
    """Close the connection of retrieval's helper thread before the test database is dropped."""
    yield
    from knowledgebases import retrieval

    retrieval.close_pool_helper()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_user(db):
    def create(email=None, password="secret-pass", nickname="tester"):
        email = email or f"user{next(_emails)}@example.com"
        return account_services.register_user(email=email, nickname=nickname, password=password)

    return create


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def api_key(user):
    _, key = account_services.create_api_key(tenant_id=user.id, created_by=user)
    return key


@pytest.fixture
def auth_client(api_key):
    """A client that sends ``Authorization: Bearer <API key>`` of the ``user`` fixture."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


def client_for(user) -> APIClient:
    """Return a client authenticated by a new API key of ``user``'s tenant."""
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
