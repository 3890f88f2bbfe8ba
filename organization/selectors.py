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

from sentiment_ops import prepared

from . import policy_defaults
from .models import (
    Body,
    LevelPolicy,
    Role,
    Section,
    UnitPolicy,
    User,
)
from .workbook import IMPLIED_ROLES, Book, Person


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
    username: one query (compiled once per process). The choices of a consultation's participants."""
    rows = prepared.rows(("organization.people_choices",), lambda _now: (
        User.objects.filter(is_active=True, is_service_account=False)
        .filter(Q(section_memberships__isnull=False) | Q(body_memberships__isnull=False))
        .order_by("username").values_list("username", "full_name", "section_memberships__section__name")))
    people: dict[str, tuple[str, list[str]]] = {}
    for username, full_name, section in rows:
        entry = people.setdefault(username, (full_name or username, []))
        if section and section not in entry[1]:
            entry[1].append(section)
    return [(u, f"{name}（{'、'.join(units)}）" if units else name) for u, (name, units) in people.items()]


def all_units() -> list[tuple[str, int, str, str]]:
    """(kind, pk, code, name) of every section (in their order) then every body (by code), kind
    "section" or "body": one query."""
    sections = Section.objects.order_by().values_list("pk", "code", "name", "order",
                                                      Value(0, output_field=IntegerField()))
    bodies = Body.objects.order_by().values_list("pk", "code", "name", Value(0, output_field=IntegerField()),
                                                 Value(1, output_field=IntegerField()))
    rows = sorted(sections.union(bodies, all=True), key=lambda r: (r[4], r[3], r[1]))
    return [("body" if kind else "section", pk, code, name) for pk, code, name, _order, kind in rows]


def command_body() -> Body | None:
    return Body.objects.filter(code=Body.COMMAND).first()


# --- R4: which body decides a response level ------------------------------------------------
# The answer is the policy's (``LevelPolicy.deciding_body``; one body may decide several levels)
# and is read in exactly two places, both here: ``deciding_bodies`` (level → body, for the
# services, the notices and the checklist) and ``units_of`` (the levels a user's bodies decide,
# joined into the user's one units query, for ``incidents.permissions.body_levels``). WHICH
# level must decide a given proposal (a raise, a lowering, a lift) is the responses services'
# rule, above this one.

def deciding_bodies() -> dict[int, Body]:
    """Each response level that has a deciding body → that body (one query)."""
    return {row.level: row.deciding_body
            for row in LevelPolicy.objects.select_related("deciding_body").exclude(deciding_body=None)}


def deciding_body(level: int) -> Body | None:
    """The body that starts, changes and lifts a response of ``level`` (R4), or None."""
    return deciding_bodies().get(level)


def office_section() -> Section | None:
    """The unit's office (R12): the owner of the 1-hour quick report, from the policy."""
    policy = UnitPolicy.objects.select_related("office_section").order_by("pk").first()
    return policy.office_section if policy is not None else None


@dataclasses.dataclass(frozen=True)
class Unit:
    """One of the user's sections (``rank``: its order; ``is_head``) or bodies (``levels``: the
    response levels it decides, ``rank`` the highest of them — the smallest number — or 0)."""

    kind: str  # "section" | "body"
    pk: int
    code: str
    name: str
    rank: int
    is_head: bool
    levels: tuple[int, ...] = ()


def units_of(user) -> list[Unit]:
    """The user's sections (in their order) then bodies (by code): from ``User.identity`` (ONE
    query per request with the roles: a UNION of groups and memberships), cached on the
    request's user object. Every helper about the user's units (ids, codes, levels, the
    dashboard's 我的身份) reads this."""
    if not hasattr(user, "_units"):
        units: dict[tuple[str, int], Unit] = {}
        for kind, pk, code, name, rank, is_head in user.identity():
            if kind == "group":
                continue
            if kind == "section":
                units[kind, pk] = Unit(kind, pk, code, name, rank, is_head)
                continue
            prior = units.get((kind, pk))  # the same body's row for another level it decides
            levels = tuple(sorted({*(prior.levels if prior else ()), rank} - {0}))
            units[kind, pk] = Unit(kind, pk, code, name, levels[0] if levels else 0, False, levels)
        user._units = sorted(units.values(),
                             key=lambda u: (u.kind != "section", u.rank if u.kind == "section" else 0, u.code))
    return user._units


def identity_key(user) -> tuple:
    """Everything a statement about the user can be built from (their id, whether superuser,
    roles and units): the key of statements compiled once per process (sentiment_ops.prepared).
    Kept on the user object, as its units are."""
    if not hasattr(user, "_identity_key"):
        user._identity_key = (user.pk, user.is_superuser, user.roles, tuple(units_of(user)))
    return user._identity_key


def decided_levels(user) -> list[int]:
    """The response levels decided by the bodies the user belongs to (``units_of``)."""
    return sorted({level for u in units_of(user) if u.kind == "body" for level in u.levels})


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


def organization_book():
    """The organisation as the workbook's contents (``workbook.Book``): sections, bodies and
    every active person who is not a service account, in four queries."""
    people = {}
    users = (User.objects.filter(is_active=True, is_service_account=False).order_by("username")
             .prefetch_related("section_memberships__section", "body_memberships__body", "groups"))
    for user in users:
        memberships = sorted(user.section_memberships.all(), key=lambda m: (m.section.order, m.section.code))
        people[user.username] = Person(
            username=user.username, full_name=user.full_name, phone=user.phone, email=user.email,
            sections=tuple(m.section.code for m in memberships if not m.is_head),
            heads=tuple(m.section.code for m in memberships if m.is_head),
            bodies=tuple(sorted(m.body.code for m in user.body_memberships.all())),
            roles=tuple(sorted({g.name for g in user.groups.all()} & set(Role.values) - set(IMPLIED_ROLES))))
    return Book(
        sections={s.code: (s.name, s.order) for s in Section.objects.all()},
        bodies=dict(Body.objects.values_list("code", "name")),
        people=people, errors=[])
