"""A person's phone (the organisation workbook) and the one-time-password flag: a user created
with a one-time password must change it at first login."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("organization", "0011_unit_office_section")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="phone",
            field=models.CharField(blank=True, max_length=32, verbose_name="电话"),
        ),
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(
                default=False, verbose_name="须修改密码",
                help_text="使用一次性密码的新用户：登录后必须先修改密码才能使用系统。"),
        ),
    ]
