"""manage.py calendar_import FILE — the admin's "录入官方安排" from the command line.

Reads the State Council's notice items (or a CSV/ICS file), reports every line it cannot read,
lists the differences from the statutory rules, and confirms the year (the same service as the
admin page: a statutory holiday left as a working day needs --reason). --dry-run only reports.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organization import holidays, notice, services


class Command(BaseCommand):
    help = "Import and confirm a year's official holiday schedule (notice items, CSV or ICS)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the notice's items (UTF-8 text), a .csv or an .ics file")
        parser.add_argument("--year", type=int, help="the schedule's year (default: the notice's title or the file name)")
        parser.add_argument("--reason", default="", help="why a statutory holiday stays a working day, if one does")
        parser.add_argument("--dry-run", action="store_true", help="parse and compare only; confirm nothing")

    def handle(self, *args, file, year, reason, dry_run, **options):
        path = Path(file)
        try:
            content = path.read_text(encoding="utf-8-sig")
            schedule = notice.parse(content, year=year, filename=path.name)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        for error in schedule.errors:
            self.stderr.write(f"{path.name}:{error.line}: {error.message}  {error.text}")
        for note in schedule.notes:
            self.stdout.write(note)
        comparison = holidays.compare_with_rules(schedule.year, schedule.table())
        for row in comparison:
            if row["differs"]:
                rules = "work" if row["rules_workday"] else "rest"
                official = "work" if row["official_workday"] else "rest"
                flag = "  STATUTORY HOLIDAY AS WORKING DAY" if row["statutory_left_working"] else ""
                self.stdout.write(f"{row['date']:%Y-%m-%d} rules: {rules} {row['rules_name']}"
                                  f" | official: {official} {row['official_name']}{flag}")
        rest, work = len(schedule.rest), len(schedule.work)
        self.stdout.write(f"{schedule.year}: {rest} rest days and {work} make-up working days read, "
                          f"{sum(r['differs'] for r in comparison)} differ from the statutory rules")
        if schedule.errors:
            raise CommandError(f"{len(schedule.errors)} line(s) could not be read; nothing confirmed")
        if dry_run:
            return
        try:
            services.calendar_year_confirm(year=schedule.year, table=schedule.table(), source_name=path.name,
                                           source_text=content, override_reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{schedule.year} confirmed"))
