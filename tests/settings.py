"""Settings for the test suite: the project's settings with test-only isolation.

Tests share the developer's PostgreSQL server (pytest-django creates its own database) and Redis
server, so Redis traffic moves to a database number of its own (REDIS_TEST_DB, default 15) and
files to ``var/test-files``.
"""

from urllib.parse import urlsplit, urlunsplit

from ragflow_site.settings import *  # noqa: F403
from ragflow_site.settings import REDIS_URL as _DEVELOPMENT_REDIS_URL
from ragflow_site.settings import RQ_QUEUE_NAME, VAR_DIR, env_int

REDIS_TEST_DB = env_int("REDIS_TEST_DB", 15)
_parts = urlsplit(_DEVELOPMENT_REDIS_URL)
REDIS_URL = urlunsplit((_parts.scheme, _parts.netloc, f"/{REDIS_TEST_DB}", _parts.query, _parts.fragment))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ragflow-test",
    }
}
RQ_QUEUES = {RQ_QUEUE_NAME: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}

MEDIA_ROOT = VAR_DIR / "test-files"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Fast hashing: the suite creates many users and the hash strength is not what it tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Short heartbeats so that tests which kill a worker see its task recovered within seconds.
TASK_HEARTBEAT_SECONDS = 1
TASK_HEARTBEAT_TIMEOUT_SECONDS = 6
TASK_RETRY_DELAY_SECONDS = 1
