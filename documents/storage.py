"""Storage keys of document files in the default storage, and removal of those files."""

import logging

from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def document_key(dataset_id: str, document_id: str, suffix: str) -> str:
    """Return the storage key of a document's file.

    The key is built from generated ids and an extension from the supported-type list only, so a
    client's file name can never choose a path outside the dataset's folder.
    """
    file_name = f"original.{suffix}" if suffix else "original"
    return f"{dataset_id}/{document_id}/{file_name}"


def remove_stored_files(keys: list[str]) -> int:
    """Delete stored files by key; log and skip each failure. Return how many were removed."""
    removed = 0
    for key in keys:
        if not key:
            continue
        try:
            default_storage.delete(key)
        except Exception:  # A storage backend may raise anything (OSError, botocore errors).
            logger.exception("Failed to remove stored file %s", key)
            continue
        removed += 1
    return removed
