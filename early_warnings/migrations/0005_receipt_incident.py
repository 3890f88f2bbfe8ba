"""The notice's incident on each receipt (a section member's notices to sign probed for
visibility at their incident directly): added, filled from the notices, then required."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    NoticeReceipt = apps.get_model("warnings", "NoticeReceipt")
    WarningNotice = apps.get_model("warnings", "WarningNotice")
    NoticeReceipt.objects.using(schema_editor.connection.alias).update(
        incident_id=Subquery(WarningNotice.objects.filter(pk=OuterRef("notice_id")).values("incident_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0013_incident_count"),
        ("warnings", "0004_receipt_issued_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="noticereceipt",
            name="incident",
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="incidents.incident"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="noticereceipt",
            name="incident",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="incidents.incident"),
        ),
    ]
