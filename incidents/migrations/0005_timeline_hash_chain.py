"""R53: the timeline becomes a hash chain per incident (incidents/timeline.py). Existing events
are numbered in their order (time, id) and chained; the append-only trigger of 0002 is lifted
for that and put back inside this migration only (PostgreSQL runs it in one transaction);
0006 then makes the number required and unique."""

import datetime as dt
import hashlib
import json

import django.utils.timezone
from django.db import migrations, models

GENESIS = "0" * 64
LIFT = "ALTER TABLE incidents_timelineevent DISABLE TRIGGER incidents_timeline_append_only;"
RESTORE = "ALTER TABLE incidents_timelineevent ENABLE TRIGGER incidents_timeline_append_only;"


def _content(e) -> str:
    # Frozen copy of incidents.timeline.content as of this migration.
    return json.dumps({
        "incident": e.incident_id, "seq": e.seq, "at": e.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": e.actor_id, "verb": e.verb, "before": e.before, "after": e.after, "reason": e.reason,
        "detail": e.detail,
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_existing(apps, schema_editor):
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        schema_editor.execute(LIFT, params=None)
    TimelineEvent = apps.get_model("incidents", "TimelineEvent")
    batch, previous, seq, current = [], GENESIS, 0, None
    for e in TimelineEvent.objects.order_by("incident_id", "at", "id").iterator(chunk_size=2000):
        if e.incident_id != current:
            previous, seq, current = GENESIS, 0, e.incident_id
        seq += 1
        e.seq = seq
        e.hash = previous = hashlib.sha256((previous + _content(e)).encode()).hexdigest()
        batch.append(e)
        if len(batch) >= 2000:
            TimelineEvent.objects.bulk_update(batch, ["seq", "hash"])
            batch = []
    TimelineEvent.objects.bulk_update(batch, ["seq", "hash"])
    if pg:
        schema_editor.execute(RESTORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_classified_access_append_only")]

    operations = [
        migrations.AlterField(
            model_name="timelineevent", name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="时间"),
        ),
        migrations.AddField(
            model_name="timelineevent", name="seq",
            field=models.PositiveIntegerField(null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="timelineevent", name="hash",
            field=models.CharField(default="", max_length=64, verbose_name="哈希"),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
