"""The chain's sequence number is required and unique per incident (after 0005 numbered the rows)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("incidents", "0005_timeline_hash_chain")]

    operations = [
        migrations.AlterField(
            model_name="timelineevent", name="seq",
            field=models.PositiveIntegerField(verbose_name="序号"),
        ),
        migrations.AddConstraint(
            model_name="timelineevent",
            constraint=models.UniqueConstraint(fields=("incident", "seq"), name="uniq_timeline_seq"),
        ),
    ]
