"""Folding of worker progress into documents and datasets, run by ``aggregate_progress``."""

import logging

logger = logging.getLogger(__name__)


def aggregate_once() -> int:
    """Fold the state of running tasks into their documents; return how many documents changed.

    TODO: the tasks app has no task rows yet, so there is nothing to fold. The ingestion pipeline
    adds them and the folding of their progress, run status and counters here.
    """
    return 0
