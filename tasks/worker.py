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
        if settings.EMBEDDING_THREADS > 0:
            import torch

            torch.set_num_threads(settings.EMBEDDING_THREADS)
            logger.info("Worker %s embeds with %d CPU threads", self.name, settings.EMBEDDING_THREADS)
        if settings.PRELOAD_EMBEDDING_MODEL:
            from knowledgebases.embeddings import LOCAL_MODELS, LocalEmbedder

            for spec in LOCAL_MODELS.values():
                LocalEmbedder(spec).embed(["warm-up"])
        return super().work(*args, **kwargs)
