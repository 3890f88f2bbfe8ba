"""Accountability's summary (issue 12): the tallies, the triggers that log every change of the
deadlines into TallyDelta, and the backfill from the rows already there.

The triggers are the one place that maps a deadline row to its tally key: the local due day
(settings.TIME_ZONE when migrated), the owner's section and body ids and met_by (0 for none)
and the state. PostgreSQL: one statement-level trigger per event over the transition tables
(a bulk update logs one row per key it changed). SQLite: row triggers, the local day by
Django's own django_datetime_cast_date (registered on every Django connection; what TruncDate
uses), so the SQLite file is written through Django only.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncDate

PG_KEY = ("(due_at AT TIME ZONE '{tz}')::date AS day, COALESCE(owner_section_id, 0) AS section, "
          "COALESCE(owner_body_id, 0) AS body, COALESCE(met_by_id, 0) AS met_by, state")
PG_LOG = ("INSERT INTO deadlines_tallydelta (day, section, body, met_by, state, n) "
          "SELECT day, section, body, met_by, state, SUM(n) FROM ({rows}) AS moved "
          "GROUP BY day, section, body, met_by, state HAVING SUM(n) <> 0;")
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION deadlines_tally_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {PG_LOG.format(rows=f"SELECT {PG_KEY}, 1 AS n FROM new_rows")}
  ELSIF TG_OP = 'DELETE' THEN
    {PG_LOG.format(rows=f"SELECT {PG_KEY}, -1 AS n FROM old_rows")}
  ELSE
    {PG_LOG.format(rows=f"SELECT {PG_KEY}, 1 AS n FROM new_rows UNION ALL SELECT {PG_KEY}, -1 FROM old_rows")}
  END IF;
  RETURN NULL;
END $$;
"""
PG_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _sqlite_key(row):
    return (f"django_datetime_cast_date({row}.due_at, '{{tz}}', 'UTC'), COALESCE({row}.owner_section_id, 0), "
            f"COALESCE({row}.owner_body_id, 0), COALESCE({row}.met_by_id, 0), {row}.state")


SQLITE_INSERT = "INSERT INTO deadlines_tallydelta (day, section, body, met_by, state, n) VALUES ({key}, {n});"
SQLITE_TRIGGERS = {
    "insert": ("AFTER INSERT", "", SQLITE_INSERT.format(key=_sqlite_key("NEW"), n=1)),
    "delete": ("AFTER DELETE", "", SQLITE_INSERT.format(key=_sqlite_key("OLD"), n=-1)),
    "update": ("AFTER UPDATE OF due_at, owner_section_id, owner_body_id, met_by_id, state",
               "WHEN OLD.due_at IS NOT NEW.due_at OR OLD.owner_section_id IS NOT NEW.owner_section_id "
               "OR OLD.owner_body_id IS NOT NEW.owner_body_id OR OLD.met_by_id IS NOT NEW.met_by_id "
               "OR OLD.state IS NOT NEW.state",
               SQLITE_INSERT.format(key=_sqlite_key("OLD"), n=-1) + " "
               + SQLITE_INSERT.format(key=_sqlite_key("NEW"), n=1)),
}


def create_triggers(apps, schema_editor):
    tz = settings.TIME_ZONE
    ZoneInfo(tz)  # a real zone name: it is written into SQL below
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION.format(tz=tz))
        for event, referencing in PG_TRIGGERS.items():
            schema_editor.execute(
                f"CREATE TRIGGER deadline_tally_{event.lower()} AFTER {event} ON deadlines_deadline {referencing} "
                "FOR EACH STATEMENT EXECUTE FUNCTION deadlines_tally_log()")
    elif schema_editor.connection.vendor == "sqlite":
        for name, (event, when, body) in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"CREATE TRIGGER deadline_tally_{name} {event} ON deadlines_deadline "
                                  f"FOR EACH ROW {when} BEGIN {body.format(tz=tz)} END")
    else:
        raise NotImplementedError(f"accountability tallies: no triggers for {schema_editor.connection.vendor}")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for event in PG_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS deadline_tally_{event.lower()} ON deadlines_deadline")
        schema_editor.execute("DROP FUNCTION IF EXISTS deadlines_tally_log()")
    else:
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS deadline_tally_{name}")


def backfill(apps, schema_editor):
    """The tallies of the rows already there (the triggers exist already and the migration holds
    the table, so no write falls between)."""
    Deadline, Tally = apps.get_model("deadlines", "Deadline"), apps.get_model("deadlines", "Tally")
    db = schema_editor.connection.alias
    rows = (Deadline.objects.using(db).order_by()
            .annotate(day=TruncDate("due_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
            .values_list("day", "owner_section_id", "owner_body_id", "met_by_id", "state").annotate(n=Count("id")))
    days, months = {}, {}
    for day, section, body, met_by, state, n in rows.iterator():
        key = (section or 0, body or 0, met_by or 0, state)
        days[(day, *key)] = days.get((day, *key), 0) + n
        month = day.replace(day=1)
        months[(month, *key)] = months.get((month, *key), 0) + n
    Tally.objects.using(db).bulk_create(
        [Tally(monthly=monthly, day=day, section=section, body=body, met_by=met_by, state=state, n=n)
         for monthly, tallies in ((False, days), (True, months)) for (day, section, body, met_by, state), n in tallies.items()],
        batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('deadlines', '0012_deadline_account_met'),
    ]

    operations = [
        migrations.CreateModel(
            name='Tally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('monthly', models.BooleanField(default=False)),
                ('day', models.DateField()),
                ('section', models.BigIntegerField(default=0)),
                ('body', models.BigIntegerField(default=0)),
                ('met_by', models.BigIntegerField(default=0)),
                ('state', models.CharField(max_length=10)),
                ('n', models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='TallyDelta',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('section', models.BigIntegerField(default=0)),
                ('body', models.BigIntegerField(default=0)),
                ('met_by', models.BigIntegerField(default=0)),
                ('state', models.CharField(max_length=10)),
                ('n', models.IntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name='deadline',
            index=models.Index(condition=models.Q(('state', 'open')), fields=['due_at', 'owner_section', 'owner_body'], name='deadline_open_due'),
        ),
        migrations.AddConstraint(
            model_name='tally',
            constraint=models.UniqueConstraint(fields=('monthly', 'day', 'section', 'body', 'met_by', 'state'), name='tally_key'),
        ),
        migrations.AddIndex(
            model_name='tallydelta',
            index=models.Index(fields=['day'], name='tally_delta_day'),
        ),
        # Accountability reads the tallies: what each person met no longer needs these two.
        migrations.RemoveIndex(model_name='deadline', name='deadline_account_person'),
        migrations.RemoveIndex(model_name='deadline', name='deadline_account_met'),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
