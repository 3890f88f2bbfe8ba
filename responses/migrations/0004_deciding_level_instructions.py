# R4 (issue 11): the body of the higher of the current and the proposed level decides; the
# 批示意见 written with each decision.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce, Least


def fill_deciding_level(apps, schema_editor):
    Proposal = apps.get_model("responses", "ResponseProposal")
    Proposal.objects.update(deciding_level=Least(F("level"), Coalesce(F("from_level"), F("level"))))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0008_incident_open_index"),
        ("responses", "0003_approvals_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="responseproposal",
            name="deciding_level",
            field=models.PositiveSmallIntegerField(
                default=4, help_text="提议级别与原级别中较高者的决策机构审批（R4）。", verbose_name="审批机构级别"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_deciding_level, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="responseproposal", name="proposal_pending_level"),
        migrations.AddIndex(
            model_name="responseproposal",
            index=models.Index(condition=models.Q(("decision", "pending")), fields=["deciding_level"],
                               name="proposal_pending_level"),
        ),
        migrations.CreateModel(
            name="Instruction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subject", models.CharField(choices=[("proposal", "响应级别提议"), ("lift", "解除提议")], max_length=10,
                                             verbose_name="审批事项")),
                ("level", models.PositiveSmallIntegerField(verbose_name="响应级别")),
                ("decision", models.CharField(choices=[("approved", "批准"), ("rejected", "驳回")], max_length=10,
                                              verbose_name="审批结果")),
                ("text", models.TextField(verbose_name="批示意见")),
                ("written_at", models.DateTimeField(auto_now_add=True)),
                ("author", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                             to=settings.AUTH_USER_MODEL)),
                ("incident", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="instructions",
                                               to="incidents.incident")),
                ("proposal", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                               related_name="instructions", to="responses.responseproposal")),
            ],
            options={"verbose_name": "批示意见", "verbose_name_plural": "批示意见", "ordering": ["written_at", "id"]},
        ),
    ]
