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


def unit_ids(user) -> tuple[list[int], list[int]]:
    """The pks of the user's sections and of their bodies: read once per request (cached on
    the request's user object, as the role and level helpers are)."""
    if not hasattr(user, "_unit_ids"):
        user._unit_ids = (list(user.sections.values_list("pk", flat=True)),
                          list(user.bodies.values_list("pk", flat=True)))
    return user._unit_ids
