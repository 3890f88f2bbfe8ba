"""The notice's issue time on each receipt (the order of the notices to sign, served by the
partial index ``receipt_to_sign``): added, filled from the notices, then required."""

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def fill(apps, schema_editor):
    NoticeReceipt = apps.get_model("warnings", "NoticeReceipt")
    WarningNotice = apps.get_model("warnings", "WarningNotice")
    NoticeReceipt.objects.using(schema_editor.connection.alias).update(
        issued_at=Subquery(WarningNotice.objects.filter(pk=OuterRef("notice_id")).values("issued_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("warnings", "0003_receipt_incident_closed"),
    ]

    operations = [
        migrations.AddField(
            model_name="noticereceipt",
            name="issued_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="发布时间"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="noticereceipt",
            name="issued_at",
            field=models.DateTimeField(editable=False, verbose_name="发布时间"),
        ),
        migrations.RemoveIndex(model_name="noticereceipt", name="receipt_unsigned"),
        migrations.AddIndex(
            model_name="noticereceipt",
            index=models.Index(condition=Q(("incident_closed", False), ("signed_at__isnull", True)),
                               fields=["section", "issued_at", "id"], name="receipt_to_sign"),
        ),
    ]
