"""Calls into the documents app, which owns documents, files and chunks of a dataset.

The documents app is optional for this app: each hook looks its function up when called, so
datasets work before that app provides it.
"""

import importlib
import logging

logger = logging.getLogger(__name__)

DOCUMENTS_SERVICES = "documents.services"


def _documents_function(name: str):
    try:
        module = importlib.import_module(DOCUMENTS_SERVICES)
    except ModuleNotFoundError as error:
        if error.name != DOCUMENTS_SERVICES:
            raise
        return None
    return getattr(module, name, None)


def delete_documents_of_datasets(dataset_ids: list[str]) -> None:
    """Delete the documents, files and chunks of the datasets inside the caller's transaction."""
    delete = _documents_function("delete_documents_of_datasets")
    if delete is None:
        return
    delete(dataset_ids)


def parsing_status_of_datasets(dataset_ids: list[str]) -> dict[str, dict]:
    """Return per dataset the document counts by parsing state, keyed as RAGFlow's list does."""
    empty = {"unstart_count": 0, "running_count": 0, "cancel_count": 0, "done_count": 0, "fail_count": 0}
    counts = _documents_function("parsing_status_of_datasets")
    # NOTE: until the documents app provides the function, every dataset reports zero documents.
    found = counts(dataset_ids) if counts is not None else {}
    return {dataset_id: {**empty, **found.get(dataset_id, {})} for dataset_id in dataset_ids}


def document_size_of_dataset(dataset_id: str) -> int:
    """Return the total size in bytes of the dataset's documents."""
    size = _documents_function("document_size_of_dataset")
    return int(size(dataset_id)) if size is not None else 0
