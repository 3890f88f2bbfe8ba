"""Who may see and do what (R1–R6, R54): role predicates, the one visibility rule, and the
django-guardian grants that record a section's object permissions. Visibility itself is read
from the indexed ``Assignment`` relation (the grants are kept in step with it and serve
``user.has_perm(perm, incident)`` and the admin; no list filters through them)."""

import functools
import operator

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from organization.models import Role
from organization.selectors import decided_levels, unit_ids, units_of
from sentiment_ops.exceptions import Forbidden

from .models import Assignment, Incident, State

SECTION_PERMS = ("view_incident", "handle_incident")


def is_command(user) -> bool:
    return user.is_authenticated and user.has_role(Role.COMMAND)


def is_leadership(user) -> bool:
    return user.is_authenticated and user.has_role(Role.LEADERSHIP)


def is_auditor(user) -> bool:
    return user.is_authenticated and user.has_role(Role.AUDITOR)


def is_duty(user) -> bool:
    return user.is_authenticated and user.has_role(Role.DUTY_OFFICER)


def sees_everything(user) -> bool:
    """Command group, leadership, the auditor (read-only) and the monitoring desk, which must
    see what is already logged to avoid duplicates. Classified content stays hidden (R54)."""
    return user.is_superuser or any(user.has_role(r) for r in
                                    (Role.COMMAND, Role.LEADERSHIP, Role.AUDITOR, Role.DUTY_OFFICER))


def body_levels(user) -> list[int]:
    """The response levels whose deciding body the user belongs to (R4, organization's one rule)."""
    return decided_levels(user)


class Probe(Exists):
    """An ``EXISTS`` tested at each outer row, through its index: ``OFFSET 0`` keeps
    PostgreSQL from planning it as a hashed subplan, which reads every row of the subquery
    (a section's ~26,000 assignments, 8 ms at 100,000 incidents) before the first outer row,
    when a list read in its index's order under a LIMIT tests a few hundred, or where it
    expects more outer rows than it will read (我的待办's count stops at 1,021 of a section's
    deadlines: the hash read the section's ~26,000 assignments, 12 ms; probed at each row,
    4 ms). SQLite reads ``LIMIT 1 OFFSET 0`` as ``LIMIT 1``."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def visibility_filter(user, at: str = "pk", *, probe: bool = False) -> Q:
    """Sections see incidents assigned to them (the indexed ``Assignment`` relation, read by
    section id); a level's body sees the incidents whose response is, or was ever proposed,
    at its level; everyone sees what they logged. Each branch is an indexed semi-join, so
    the filter costs what the page shows, not what the database holds (``at``: see
    ``visibility_branches``; ``probe``: the sections' branch a ``Probe``, for the list page
    read newest first)."""
    branches = visibility_branches(user, at, probe=probe)
    return Q() if branches is None else functools.reduce(operator.or_, branches)


def visibility_branches(user, at: str = "pk", *, probe: bool = False) -> list[Q] | None:
    """The branches of ``visibility_filter``, OR-ed there (None: the user sees everything),
    the sections' branch first. Counted apart (``incidents.selectors.count_visible``), each
    is read from its own index; their OR is not. ``at``: where the incident's key is — ``"pk"``
    on incidents; on rows that belong to one, its foreign key's path (``notice__incident``):
    the branches then test each row's incident without joining it (the sections' assignments
    a probe of their index per row, what the user logged and what their body was asked a set
    read once)."""
    if sees_everything(user):
        return None

    def among(incidents) -> Q:
        return Q(**{f"{at}__in": incidents.values("pk")})

    branches = []
    assigned = section_assignments(user)
    if assigned is not None:  # first: ``count_visible`` counts it from these rows alone
        # A row that belongs to an incident (``at`` ≠ "pk") is probed at each, as the list page is.
        branches.append(Q((Probe if probe or at != "pk" else Exists)(assigned.filter(incident=OuterRef(at)))))
    branches.append(Q(reported_by=user) if at == "pk" else among(Incident.objects.filter(reported_by=user)))
    levels = body_levels(user)
    if levels:
        # A body keeps seeing every incident it was ever asked to decide on.
        asked = Incident.objects.filter(response_proposals__level__in=levels)
        at_level = Q(response__level__in=levels) if at == "pk" else Q(**{f"{at}__response__level__in": levels})
        branches.append(at_level | among(asked))
    return branches


def section_assignments(user):
    """The ``Assignment`` rows of the user's sections (None: the user has none): the
    incidents of the sections' branch of ``visibility_branches`` are exactly their
    ``incident_id``s."""
    section_ids = user_section_ids(user)
    return Assignment.objects.filter(section_id__in=section_ids) if section_ids else None


def user_section_ids(user) -> list[int]:
    return unit_ids(user)[0]


def user_section_codes(user) -> set[str]:
    return {u.code for u in units_of(user) if u.kind == "section"}


# --- R54: who reads a classified incident's content ---------------------------------------
# The predicate and the queryset filter below are the one statement of the rule: keep them
# side by side and in step. Readers: superusers, the command group, leadership, the user who
# logged it, the assigned sections, the members of the body that must decide on its
# response (the level at which it is active or proposed), and the auditor once the case is
# closed (R6: the complete record of closed cases; every opening is logged, ClassifiedAccess).

def _reads_every_content(user) -> bool:
    return user.is_superuser or is_command(user) or is_leadership(user)


def shown_title(title: str, readable: bool, pk: int) -> str:
    """R54: the title of an incident whose content the reader may read (``readable``), else the
    incident's number in its place."""
    return title if readable else _("【涉密】舆情事件 #%(id)s") % {"id": pk}


def can_see_content(user, incident, assigned_codes=None) -> bool:
    """R54 for one incident (``assigned_codes``: its sections' codes when already loaded)."""
    if not incident.classified or _reads_every_content(user):
        return True
    if incident.reported_by_id == user.pk:
        return True
    if incident.state == State.CLOSED and is_auditor(user):
        return True
    levels = body_levels(user)
    response = getattr(incident, "response", None) if levels else None
    if response is not None and (response.level in levels or response.proposed_level in levels):
        return True
    if assigned_codes is None:
        assigned_codes = {s.code for s in incident.sections.all()}
    return bool(user_section_codes(user) & assigned_codes)


def content_readable(user) -> Q:
    """R54 as a queryset filter on incidents: the same rule as ``can_see_content``."""
    if _reads_every_content(user):
        return Q()
    mine = Assignment.objects.filter(incident=OuterRef("pk"), section_id__in=user_section_ids(user))
    q = Q(classified=False) | Q(reported_by=user) | Q(Exists(mine))
    if is_auditor(user):
        q |= Q(state=State.CLOSED)
    levels = body_levels(user)
    if levels:
        q |= Q(response__level__in=levels) | Q(response__proposal__level__in=levels)
    return q


def require_command(user):
    if not is_command(user):
        raise Forbidden(_("只有舆情信息指挥小组成员可以执行此操作。"))


def require_section_member(user, section):
    if section.code not in user_section_codes(user) and not user.is_superuser:
        raise Forbidden(_("您不是“%(section)s”的成员。") % {"section": section.name})


def grant_section(incident, section):
    for perm in SECTION_PERMS:
        assign_perm(f"incidents.{perm}", section.group, incident)


def revoke_section(incident, section):
    for perm in SECTION_PERMS:
        remove_perm(f"incidents.{perm}", section.group, incident)
