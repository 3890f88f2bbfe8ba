"""Reads of the organisation that the services and pages share."""

import dataclasses

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from . import policy_defaults
from .models import Body, LevelPolicy, Section, User


def sections_by_code(codes, field="sections") -> list[Section]:
    """The sections of ``codes`` in the given order; an unknown code is a field error."""
    codes = list(dict.fromkeys(codes or []))
    found = {s.code: s for s in Section.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("未知的股室代码：%(codes)s") % {"codes": "、".join(unknown)}})
    return [found[c] for c in codes]


def users_by_username(usernames, field="participants") -> list[User]:
    """The active users of ``usernames`` in the given order; an unknown name is a field error."""
    names = list(dict.fromkeys(usernames or []))
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationError({field: _("未知的用户：%(names)s") % {"names": "、".join(unknown)}})
    return [found[n] for n in names]


def people_choices() -> list[tuple[str, str]]:
    """(username, "name（section、…）") of every active person in a section or body, by
    username: one query. The choices of a consultation's participants."""
    rows = (User.objects.filter(is_active=True, is_service_account=False)
            .filter(Q(section_memberships__isnull=False) | Q(body_memberships__isnull=False))
            .order_by("username").values_list("username", "full_name", "section_memberships__section__name"))
    people: dict[str, tuple[str, list[str]]] = {}
    for username, full_name, section in rows:
        entry = people.setdefault(username, (full_name or username, []))
        if section and section not in entry[1]:
            entry[1].append(section)
    return [(u, f"{name}（{'、'.join(units)}）" if units else name) for u, (name, units) in people.items()]


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


def stable_days_target(level_ref: str):
    """The stable working days a response at the outer row's level (``level_ref``) needs before
    its lift (R32), as an annotation: the level's policy, else its seeded default — so that a
    list shows the targets without a query of its own."""
    policy = LevelPolicy.objects.filter(level=OuterRef(level_ref)).values("stable_working_days")[:1]
    default = Case(*[When(**{level_ref: level}, then=Value(row["stable_working_days"]))
                     for level, row in policy_defaults.LEVELS.items()], output_field=IntegerField())
    return Coalesce(Subquery(policy, output_field=IntegerField()), default)
