"""Retire every API token issued before issue 14 (DRF's ``authtoken_token``).

They are retired, not converted into service accounts' tokens: they were stored in plain text,
never expired and survived logout and password changes, so any of them may have leaked; and
nothing tells which belonged to monitoring software and which to a person (all were obtained
with a person's password). Monitoring software gets a service account and a long-lived token
from an administrator (admin → 用户 → 服务账号 → 签发长期令牌); people obtain a new expiring token
with ``POST /api/v1/auth/token/`` as before. The emptied table is left for the operator to drop.
"""

from django.db import migrations


def retire(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [
        ("organization", "0005_user_is_service_account"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(retire, migrations.RunPython.noop)]
