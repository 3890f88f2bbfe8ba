import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from deadlines.models import Heartbeat
from deadlines.policy import sweep_stale


class Command(BaseCommand):
    help = "Exit 0 when the deadline sweep ran in the last 2 minutes (the beat container's health check)."

    def handle(self, *args, **options):
        last = Heartbeat.last("sweep")
        if sweep_stale(last, timezone.now()):
            self.stderr.write(f"last sweep: {last or 'never'}")
            sys.exit(1)
        self.stdout.write(f"last sweep: {timezone.localtime(last).isoformat()}")
