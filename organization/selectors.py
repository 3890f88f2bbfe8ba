"""Reads of the organisation that the services and pages share."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Body, Role, Section, User


def sections_by_code(codes, field="sections") -> list[Section]:
    """The sections of ``codes`` in the given order; an unknown code is a field error."""
    codes = list(dict.fromkeys(codes or []))
    found = {s.code: s for s in Section.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("未知的股室代码：%(codes)s") % {"codes": "、".join(unknown)}})
    return [found[c] for c in codes]


def command_body() -> Body | None:
    return Body.objects.filter(code=Body.COMMAND).first()


def command_member_ids():
    """The members of the command group (R3), as a values list of user ids."""
    return Body.objects.filter(code=Body.COMMAND).values_list("members", flat=True)


def body_member_ids(level: int):
    """The members of the body that decides responses at ``level`` (R4)."""
    return Body.objects.filter(level=level).values_list("members", flat=True)


def leadership_ids():
    """Active users with the leadership role (R5)."""
    return User.objects.filter(groups__name=Role.LEADERSHIP, is_active=True).values_list("pk", flat=True)
