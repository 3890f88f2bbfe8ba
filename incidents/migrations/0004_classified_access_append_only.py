"""R54: the access log of classified incidents is append-only on PostgreSQL too."""

from django.db import migrations

CREATE = """
DROP TRIGGER IF EXISTS incidents_classified_access_append_only ON incidents_classifiedaccess;
CREATE TRIGGER incidents_classified_access_append_only
    BEFORE UPDATE OR DELETE ON incidents_classifiedaccess
    FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""
DROP = "DROP TRIGGER IF EXISTS incidents_classified_access_append_only ON incidents_classifiedaccess;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_classified_access"), ("incidents", "0002_timeline_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
