"""The start-up banner of ``manage.py runall``: which database and Redis the processes use."""

from ragflow_site.management.commands import runall


def test_display_url_hides_password():
    displayed = runall.display_url("postgresql://rag:s3cret@db.internal:5432/ragflow")

    assert displayed == "postgresql://rag:***@db.internal:5432/ragflow"
    assert "s3cret" not in displayed


def test_display_url_keeps_url_without_password():
    assert runall.display_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_services_from_environment(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://rag:s3cret@db.internal:5432/ragflow")
    monkeypatch.setenv("REDIS_URL", "redis://:token@cache.internal:6379/2")
    settings.DATABASE_URL = "postgresql://rag:s3cret@db.internal:5432/ragflow"
    settings.REDIS_URL = "redis://:token@cache.internal:6379/2"

    described = runall.services_description()

    assert "Database: postgresql://rag:***@db.internal:5432/ragflow (DATABASE_URL)" in described
    assert "Redis:    redis://:***@cache.internal:6379/2 (REDIS_URL)" in described
    assert "s3cret" not in described
    assert "token" not in described


def test_services_embedded(settings, monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings.VAR_DIR = tmp_path
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"

    described = runall.services_description()

    assert f"Database: embedded PostgreSQL in {tmp_path / 'pgdata'}" in described
    assert "`make stop` stops it" in described
    assert "Redis:    redis://127.0.0.1:6379/0 (the Redis already running on this machine)" in described

    settings.REDIS_URL = "redis://127.0.0.1:41234/0"
    assert f"(embedded Valkey with data in {tmp_path / 'valkey'})" in runall.services_description()
