"""WSGI entry point for gunicorn: ``gunicorn ragflow_site.wsgi``."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragflow_site.settings")
application = get_wsgi_application()
