import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from deadlines.models import Heartbeat
from sentiment_ops.health import SWEEP_MAX_AGE


class Command(BaseCommand):
    help = "Exit 0 when the deadline sweep ran in the last 2 minutes (the beat container's health check)."

    def handle(self, *args, **options):
        last = Heartbeat.last("sweep")
        if last is None or timezone.now() - last > SWEEP_MAX_AGE:
            self.stderr.write(f"last sweep: {last or 'never'}")
            sys.exit(1)
        self.stdout.write(f"last sweep: {timezone.localtime(last).isoformat()}")
