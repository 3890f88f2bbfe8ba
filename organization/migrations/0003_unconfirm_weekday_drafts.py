"""Before issue 9 the admin's "draft next year" marked every weekday as working and could be
confirmed as it was, so 元旦 and 春节 counted as working days. A year whose confirmed draft rows
make a statutory holiday a working day was confirmed that way: its draft rows go back to
unconfirmed, and the statutory rules (provisional) decide the year until an administrator
enters the official schedule. Rows an administrator edited (source ``admin``) are kept."""

from django.db import migrations


def unconfirm_weekday_drafts(apps, schema_editor):
    from organization import holidays  # pure rules, no models

    WorkCalendar = apps.get_model("organization", "WorkCalendar")
    drafts = WorkCalendar.objects.filter(source="draft", confirmed=True)
    for year in sorted({d.year for d in drafts.dates("date", "year")}):
        if not holidays.in_range(year):
            continue
        statutory = [h.date for h in holidays.statutory_days(year)]
        if drafts.filter(date__in=statutory, is_workday=True).exists():
            drafts.filter(date__year=year).update(confirmed=False)


class Migration(migrations.Migration):
    dependencies = [("organization", "0002_calendar_confirmation")]

    operations = [migrations.RunPython(unconfirm_weekday_drafts, migrations.RunPython.noop)]
