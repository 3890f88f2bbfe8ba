"""Recompute the timeline's hash chains (R53) and name the first broken link of each."""

from django.core.management.base import BaseCommand, CommandError

from incidents.models import Incident
from incidents.timeline import verify


class Command(BaseCommand):
    help = "Recompute each incident's timeline hash chain; exit 1 naming the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--incident", type=int, help="only this incident")

    def handle(self, *args, incident=None, **options):
        ids = [incident] if incident else Incident.objects.order_by("pk").values_list("pk", flat=True).iterator()
        checked, broken = 0, []
        for pk in ids:
            checked += 1
            found = verify(pk)
            if found:
                broken.append(found)
                self.stderr.write(
                    f"incident {found.incident_id}: broken at event seq {found.seq}"
                    f" (id {found.event_id}): {found.problem}")
        if broken:
            raise CommandError(f"{len(broken)} of {checked} timeline chain(s) broken")
        self.stdout.write(f"{checked} timeline chain(s) verified")
