from django.core.management.base import BaseCommand

from deadlines.delivery import deliver_outbox
from deadlines.sweep import process_deadlines


class Command(BaseCommand):
    help = ("One sweep now (reminders, overdue, escalation) — the same function Celery beat runs; "
            "safe to run concurrently with itself and with workers. Then sends the outbox.")

    def add_arguments(self, parser):
        parser.add_argument("--no-deliver", action="store_true", help="write notifications, do not send")

    def handle(self, *args, no_deliver=False, **options):
        stats = process_deadlines()
        sent = {} if no_deliver else deliver_outbox()
        self.stdout.write(f"sweep: {dict(stats) or 'nothing due'}; outbox: {sent or 'not sent'}")
