"""What a receipt keeps of its notice — its issue time and its incident — so that the notices to
sign are read in order from the partial index ``receipt_to_sign`` and probed for visibility on
the receipts' own rows: added, filled from the notices, then required."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def fill(apps, schema_editor):
    NoticeReceipt = apps.get_model("warnings", "NoticeReceipt")
    WarningNotice = apps.get_model("warnings", "WarningNotice")
    notice = WarningNotice.objects.filter(pk=OuterRef("notice_id"))
    NoticeReceipt.objects.using(schema_editor.connection.alias).update(
        issued_at=Subquery(notice.values("issued_at")[:1]), incident_id=Subquery(notice.values("incident_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0013_incident_count"),
        ("warnings", "0003_receipt_incident_closed"),
    ]

    operations = [
        migrations.AddField(
            model_name="noticereceipt",
            name="issued_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="发布时间"),
        ),
        migrations.AddField(
            model_name="noticereceipt",
            name="incident",
            field=models.ForeignKey(editable=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="incidents.incident"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="noticereceipt",
            name="issued_at",
            field=models.DateTimeField(editable=False, verbose_name="发布时间"),
        ),
        migrations.AlterField(
            model_name="noticereceipt",
            name="incident",
            field=models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="incidents.incident"),
        ),
        migrations.RemoveIndex(model_name="noticereceipt", name="receipt_unsigned"),
        migrations.AddIndex(
            model_name="noticereceipt",
            index=models.Index(condition=Q(("incident_closed", False), ("signed_at__isnull", True)),
                               fields=["section", "issued_at", "id"], name="receipt_to_sign"),
        ),
    ]
