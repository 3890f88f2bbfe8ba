"""Reads of the organisation that the services and pages share."""

import dataclasses

from django.core.exceptions import ValidationError
from django.db.models import IntegerField, Value
from django.utils.translation import gettext as _

from .models import Body, Section


def sections_by_code(codes, field="sections") -> list[Section]:
    """The sections of ``codes`` in the given order; an unknown code is a field error."""
    codes = list(dict.fromkeys(codes or []))
    found = {s.code: s for s in Section.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("未知的股室代码：%(codes)s") % {"codes": "、".join(unknown)}})
    return [found[c] for c in codes]


def all_units() -> list[tuple[str, str]]:
    """(code, name) of every section (in their order) then every body (by code): one query."""
    sections = Section.objects.order_by().values_list("code", "name", "order", Value(0, output_field=IntegerField()))
    bodies = Body.objects.order_by().values_list("code", "name", Value(0, output_field=IntegerField()),
                                      Value(1, output_field=IntegerField()))
    rows = sorted(sections.union(bodies, all=True), key=lambda r: (r[3], r[2], r[0]))
    return [(code, name) for code, name, _order, _kind in rows]


def command_body() -> Body | None:
    return Body.objects.filter(code=Body.COMMAND).first()


@dataclasses.dataclass(frozen=True)
class Unit:
    """One of the user's sections (``rank``: its order; ``is_head``) or bodies (``rank``: its
    response level, 0 for the command group)."""

    kind: str  # "section" | "body"
    pk: int
    code: str
    name: str
    rank: int
    is_head: bool


def units_of(user) -> list[Unit]:
    """The user's sections (in their order) then bodies (by code): from ``User.identity`` (ONE
    query per request with the roles: a UNION of groups and memberships), cached on the
    request's user object. Every helper about the user's units (ids, codes, levels, the
    dashboard's 我的身份) reads this."""
    if not hasattr(user, "_units"):
        rows = [Unit(*row) for row in user.identity() if row[0] != "group"]
        user._units = sorted(rows, key=lambda u: (u.kind != "section", u.rank if u.kind == "section" else 0, u.code))
    return user._units


def unit_ids(user) -> tuple[list[int], list[int]]:
    """The pks of the user's sections and of their bodies (``units_of``)."""
    units = units_of(user)
    return [u.pk for u in units if u.kind == "section"], [u.pk for u in units if u.kind == "body"]


def robot_secret(url: str) -> str:
    """The signing secret (DingTalk 加签) of the section or body whose group robot is ``url``."""
    for model in (Section, Body):
        secret = model.objects.filter(webhook_url=url).exclude(webhook_secret="").values_list(
            "webhook_secret", flat=True).first()
        if secret:
            return secret
    return ""
