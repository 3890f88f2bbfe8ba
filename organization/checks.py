"""System checks of the unit's accounts (``manage.py check --deploy``)."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils.translation import gettext as _

from .demo import users_with_demo_password
from .models import User


@checks.register(checks.Tags.security, deploy=True)
def demo_password_outside_demo_mode(app_configs=None, **kwargs):
    """E001: outside demo mode no user may keep the published demo password."""
    if settings.DEMO:
        return []
    try:
        found = users_with_demo_password(User.objects.filter(is_active=True).only("username", "password"))
    except DatabaseError:  # no database yet (a fresh checkout): nothing to check
        return []
    if not found:
        return []
    return [checks.Error(
        _("演示模式已关闭（DEMO=0），但以下用户仍使用公开的演示密码：%(users)s。") % {"users": ", ".join(found)},
        hint=_("请在管理后台修改这些用户的密码或停用它们；演示数据只应在 DEMO=1 时存在。"),
        id="organization.E001",
    )]
