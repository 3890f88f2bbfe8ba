import argparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organization import services
from organization.demo import FIXTURES, fixture
from organization.models import Body, Section
from organization.presets import DEFAULT


class Command(BaseCommand):
    help = "Create the demo unit of API.md (sections, bodies, users); safe to run again."

    def add_arguments(self, parser):
        # Demo mode alone decides (make run serves the demo with DEBUG off); --force is still
        # accepted from older scripts and changes nothing.
        parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--with-cases", action="store_true",
                            help="also add a dozen incidents in every stage (seed_demo_cases), once")
        parser.add_argument("--preset", choices=sorted(FIXTURES), default=DEFAULT,
                            help="the unit's shape: the plan preset and its demo users (setup_unit)")

    def handle(self, *args, with_cases=False, preset=DEFAULT, **options):
        if not settings.DEMO:
            raise CommandError(
                "seed_demo creates users with a published password; it runs only in demo mode "
                "(DEMO=1, which `make run` sets). Outside it, `check --deploy` fails while any "
                "user has the demo password."
            )
        demo = fixture(preset)
        with transaction.atomic():
            services.unit_setup(preset=preset)
            services.calendar_import_package_years()
            for order, s in enumerate(demo["sections"]):
                services.section_ensure(code=s["code"], name=s["name"], order=order)
            for u in demo["users"]:
                user = services.user_ensure(
                    username=u["username"], password=demo["password"], full_name=u["full_name"],
                    roles=u.get("roles", []), is_superuser=u.get("superuser", False),
                )
                for code in u.get("sections", []):
                    services.section_add_member(section=Section.objects.get(code=code), user=user)
                for code in u.get("heads", []):
                    services.section_add_member(section=Section.objects.get(code=code), user=user, head=True)
                for code in u.get("bodies", []):
                    services.body_add_member(body=Body.objects.get(code=code), user=user)
        self.stdout.write(self.style.SUCCESS(
            f"demo unit ready: {len(demo['sections'])} sections, {len(demo['users'])} users "
            f"(password {demo['password']})"
        ))
        if with_cases:  # by name: the cases are written by a higher layer (lifecycle)
            call_command("seed_demo_cases", stdout=self.stdout)
