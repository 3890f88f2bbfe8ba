from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lifecycle.demo_cases import seed_cases


class Command(BaseCommand):
    help = "Add the demo's dozen cases in every stage (demo mode only; only to a database without incidents)."

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_cases runs only in demo mode (DEMO=1, which `make run` sets).")
        n = seed_cases()
        self.stdout.write(f"demo cases: {n} added" if n else "demo cases: the database already has incidents")
