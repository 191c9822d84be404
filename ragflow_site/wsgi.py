"""WSGI entry point for gunicorn: ``gunicorn ragflow_site.wsgi``."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragflow_site.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from knowledgebases.embeddings import limit_cpu_threads  # noqa: E402

if settings.WEB_EMBEDDING_THREADS > 0:
    limit_cpu_threads(settings.WEB_EMBEDDING_THREADS)
