"""Re-enqueue unfinished tasks from the database, for example after Redis lost its data."""

from django.core.management.base import BaseCommand

from tasks.progress import recover_lost_tasks, requeue_orphans


class Command(BaseCommand):
    help = (
        "Enqueue again every queued task whose RQ job is missing from Redis, and retry running tasks "
        "whose worker stopped sending heartbeats."
    )

    def handle(self, *args, **options):
        requeued = requeue_orphans(min_age_seconds=0)
        recovered = recover_lost_tasks()
        self.stdout.write(f"Re-enqueued {requeued} queued tasks; recovered {recovered} tasks of lost workers.")
