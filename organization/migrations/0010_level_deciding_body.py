"""Each response level's deciding body is the policy's (LevelPolicy.deciding_body), no longer a
body's single ``level``: one body may decide several levels (plan 000's 领导小组 decides all four).
The existing ``Body.level`` values are carried over, then the column is dropped."""

import django.db.models.deletion
from django.db import migrations, models

from organization import policy_defaults as seeds


def forward(apps, schema_editor):
    Body = apps.get_model("organization", "Body")
    LevelPolicy = apps.get_model("organization", "LevelPolicy")
    for body in Body.objects.exclude(level=None):
        row = LevelPolicy.objects.filter(level=body.level).first()
        if row is None:
            row = LevelPolicy(level=body.level, **seeds.LEVELS[body.level])
        row.deciding_body = body
        row.save()


def backward(apps, schema_editor):
    Body = apps.get_model("organization", "Body")
    LevelPolicy = apps.get_model("organization", "LevelPolicy")
    taken = set()
    for row in LevelPolicy.objects.exclude(deciding_body=None).order_by("level"):
        if row.deciding_body_id not in taken:  # the old column held one level per body
            Body.objects.filter(pk=row.deciding_body_id).update(level=row.level)
            taken.add(row.deciding_body_id)


class Migration(migrations.Migration):
    dependencies = [("organization", "0009_policy_help_texts")]

    operations = [
        migrations.AddField(
            model_name="levelpolicy",
            name="deciding_body",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="deciding_levels", to="organization.body", verbose_name="决策指挥机构",
                help_text="R4：启动、调整和解除本级应急响应的机构；同一机构可决定多个级别。"),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="body", name="level"),
    ]
