"""The quick report's owner is the unit's office section, named in the policy (R12): 信息中心
(code ``info``) where it exists, as the code assumed before."""

import django.db.models.deletion
from django.db import migrations, models


def forward(apps, schema_editor):
    Section = apps.get_model("organization", "Section")
    UnitPolicy = apps.get_model("organization", "UnitPolicy")
    office = Section.objects.filter(code="info").first()
    if office is not None:
        UnitPolicy.objects.filter(office_section=None).update(office_section=office)


class Migration(migrations.Migration):
    dependencies = [("organization", "0010_level_deciding_body")]

    operations = [
        migrations.AddField(
            model_name="unitpolicy",
            name="office_section",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="organization.section", verbose_name="办公室（快报接收股室）",
                help_text="R12：值班监测员 1 小时内报告的办公室，快报期限的责任方（预案 000 为党政办，002 为信息中心）。"),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
