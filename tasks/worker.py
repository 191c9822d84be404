"""The RQ worker class for ingestion: runs jobs in its own process so models load once."""

import logging

from django.conf import settings
from rq.worker import SimpleWorker

logger = logging.getLogger(__name__)


class IngestionWorker(SimpleWorker):
    """An RQ worker that runs each job in the worker process instead of a forked child.

    RQ's default worker forks per job, so a model loaded by one job would be loaded again by the
    next. This worker keeps the embedding model in memory between jobs and loads the default one
    before taking the first job.
    """

    def work(self, *args, **kwargs):
        from knowledgebases.embeddings import LOCAL_MODELS, LocalEmbedder, limit_cpu_threads

        if settings.EMBEDDING_THREADS > 0:
            # Imported first so that the limit resizes PyTorch's pool instead of setting
            # OMP_NUM_THREADS, which the OCR programs this worker starts would inherit.
            import torch  # noqa: F401

            limit_cpu_threads(settings.EMBEDDING_THREADS)
        if settings.PRELOAD_EMBEDDING_MODEL:
            for spec in LOCAL_MODELS.values():
                LocalEmbedder(spec).embed(["warm-up"])
        return super().work(*args, **kwargs)
