"""Start an RQ worker on this deployment's queue with the ingestion worker class."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run a worker for parse and index jobs: django-rq's rqworker on RQ_QUEUE with "
        "tasks.worker.IngestionWorker, which loads models once per process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty.")

    def handle(self, *args, burst: bool, **options):
        call_command(
            "rqworker",
            settings.RQ_QUEUE_NAME,
            worker_class="tasks.worker.IngestionWorker",
            burst=burst,
        )
