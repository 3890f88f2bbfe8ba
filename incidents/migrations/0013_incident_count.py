"""How many incidents there are, kept by the database (issue 12, incidents/counted.py): the
count and its insert-only log, the triggers that log every statement's change, and the count of
the rows already there.

PostgreSQL only: statement-level triggers over the transition tables, one log row per
statement (+n inserted, -n deleted), and on TRUNCATE the log and the count emptied. SQLite (the
embedded default) has no triggers: its count is COUNT(*), and the two tables stay empty.
"""

from django.db import migrations, models

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION incidents_count_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO incidents_incidentcountdelta (n) SELECT COUNT(*) FROM new_rows HAVING COUNT(*) > 0;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO incidents_incidentcountdelta (n) SELECT -COUNT(*) FROM old_rows HAVING COUNT(*) > 0;
  ELSE  -- TRUNCATE: no incident is left (flush truncates these two with the incidents anyway)
    DELETE FROM incidents_incidentcountdelta;
    DELETE FROM incidents_incidentcount;
  END IF;
  RETURN NULL;
END $$;
"""
PG_TRIGGERS = {
    "insert": "AFTER INSERT ON incidents_incident REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "delete": "AFTER DELETE ON incidents_incident REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "truncate": "AFTER TRUNCATE ON incidents_incident FOR EACH STATEMENT",
}


def create_triggers(apps, schema_editor):
    """The triggers, then the count of the rows already there: creating a trigger locks the
    table against writes until the migration commits, so no write falls between."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(PG_FUNCTION)
    for name, when in PG_TRIGGERS.items():
        schema_editor.execute(f"CREATE TRIGGER incident_count_{name} {when} EXECUTE FUNCTION incidents_count_log()")
    schema_editor.execute("INSERT INTO incidents_incidentcount (id, n) SELECT 1, COUNT(*) FROM incidents_incident")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in PG_TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS incident_count_{name} ON incidents_incident")
    schema_editor.execute("DROP FUNCTION IF EXISTS incidents_count_log()")


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0012_incident_state_newest'),
    ]

    operations = [
        migrations.CreateModel(
            name='IncidentCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('n', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='IncidentCountDelta',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('n', models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
