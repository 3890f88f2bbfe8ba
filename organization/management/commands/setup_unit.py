from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organization import services
from organization.presets import PRESETS


class Command(BaseCommand):
    help = ("Set the unit up from a seed plan: its policy, sections, bodies and which body decides "
            "each response level, with the plan's names (safe to run again; deletes nothing).")

    def add_arguments(self, parser):
        parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
        parser.add_argument("--name", default="", help="the unit's name (default: the plan's)")

    def handle(self, *args, preset, name="", **options):
        try:
            unit = services.unit_setup(preset=preset, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        plan = PRESETS[preset]
        self.stdout.write(self.style.SUCCESS(
            f"{unit.unit_name}: {len(plan.sections)} sections, {len(plan.bodies)} bodies, "
            f"office {plan.office}; levels decided by "
            + ", ".join(f"{level}={code}" for level, code in sorted(plan.deciding.items()))))
