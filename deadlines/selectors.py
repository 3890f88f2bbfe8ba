"""Reads of deadlines and notifications, shared by the API, the pages and the sweep."""

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import Incident, State
from incidents.selectors import content_flag, visible_rows
from organization.selectors import unit_ids

from . import policy
from .models import Deadline, Notification

# The incident's states in which a response is running (active or its lift proposed): the
# incident FSM enters RESPONDING on approval and leaves it on the lift (R30, R32).
RESPONSE_RUNNING = State.RESPONDING


def incident_levels(incident_ids) -> dict[int, tuple[int | None, int | None]]:
    """Per incident, (governing, running): the level that governs quiet hours — the running
    response's, else the active warning's (``policy.exempt_from_quiet_hours``) — and the
    running response's level, None when no response runs (no slot is created then). One query."""
    levels = {}
    rows = Incident.objects.filter(pk__in=list(incident_ids)).values_list(
        "pk", "state", "response__level", "warning__state", "warning__level")
    for pk, state, response_level, warning_state, warning_level in rows:
        if state == RESPONSE_RUNNING and response_level:
            levels[pk] = (response_level, response_level)
        elif warning_state == "active":  # early_warnings' WarningState.ACTIVE
            levels[pk] = (warning_level, None)
    return levels


def governing_levels(incident_ids) -> dict[int, int]:
    """Per incident, the level that governs quiet hours (see ``incident_levels``)."""
    return {pk: governing for pk, (governing, _running) in incident_levels(incident_ids).items()}


def response_level(incident) -> int | None:
    """The level of the incident's running response, read fresh (not a cached relation)."""
    return (Incident.objects.filter(pk=incident.pk, state=RESPONSE_RUNNING)
            .values_list("response__level", flat=True).first())


# --- the pages' lists -------------------------------------------------------------------

def quick_report(incident) -> Deadline | None:
    """The incident's 1-hour quick report (R12): met, or late, by logging it."""
    return incident.deadlines.filter(kind="quick").order_by("id").first()


def pending_deadlines(user):
    """Open or missed deadlines on the open incidents the user sees, soonest first; each
    with ``content_ok`` (R54) for its incident's title."""
    return (Deadline.objects.pending().filter(visible_rows(user))
            .select_related("incident", "owner_section", "owner_body")
            .annotate(content_ok=content_flag(user, "incident_id"))
            .order_by("due_at", "id"))


def urgent(user, now=None):
    """The deadline watch of the command group's home: the pending deadlines overdue or due
    within ``policy.DUE_SOON``, soonest first — an index range scan that stops at the few the
    home shows (``urgent_parts`` are what its counts count)."""
    now = now or timezone.now()
    return pending_deadlines(user).filter(due_at__lt=now + policy.DUE_SOON)


def urgent_parts(user, now) -> dict:
    """The overdue and the due-soon pending deadlines, to be counted up to a cap (the
    navigation's one counting query): a window count over them read every overdue row, 17,665
    at 100,000 incidents (97 ms)."""
    pending = pending_deadlines(user)
    return {"overdue": pending.filter(due_at__lt=now),
            "due_soon": pending.filter(due_at__gte=now, due_at__lt=now + policy.DUE_SOON)}


def with_quick_report(incidents):
    """Incidents annotated with the state of their 1-hour quick report (R10): ``quick_state``
    (open, met, late, missed), a subquery of an indexed row."""
    quick = Deadline.objects.filter(incident=OuterRef("pk"), kind="quick").order_by("-id")
    return incidents.annotate(quick_state=Subquery(quick.values("state")[:1]))


def _owed_q(user) -> Q | None:
    """Owed by one of the user's sections or bodies (None: the user has none)."""
    section_ids, body_ids = unit_ids(user)
    if not section_ids and not body_ids:
        return None
    return Q(owner_section__in=section_ids) | Q(owner_body__in=body_ids)


def owed_by(user):
    """Pending deadlines owed by the user's sections or bodies, soonest first (我的待办)."""
    owed = _owed_q(user)
    return Deadline.objects.none() if owed is None else pending_deadlines(user).filter(owed)


def owed_parts(user) -> list:
    """``owed_by(user)`` as disjoint parts, one per owner column (the sections' rows, then the
    bodies' rows not already a section's), each an index range scan that stops at a LIMIT, each
    row's visibility probed at the row (``_owed_probed``); ``owed_by``'s ``OR`` is a bitmap that
    reads every row owed before counting any (the command group's body owes ~50,000 at 100,000
    incidents). Their counts sum to its count (the navigation's badge, 我的待办's total)."""
    section_ids, body_ids = unit_ids(user)
    parts = [_owed_probed(user).filter(owner_section__in=section_ids)] if section_ids else []
    if body_ids:
        bodies = _owed_probed(user).filter(owner_body__in=body_ids)
        parts.append(bodies.exclude(owner_section__in=section_ids) if section_ids else bodies)
    return parts


# 我的待办's page (issue 12): what each row prints, as values (``workplace/todo.py``).
OWED_COLUMNS = ("pk", "incident_id", "kind", "state", "owner_section_id", "owner_body_id", "owner_code",
                "owner_name", "due_at", "hard_due_at", "provisional", "title", "content_ok")


def _owed_probed(user):
    """Open or missed deadlines on open incidents ``user`` sees, each row's visibility probed at
    the row (``visible_rows(probe=True)``: its incident's assignment to the user's sections, one
    index probe) — the rows are found by their owner's index first, and joining each to the
    visible incidents' subquery read the incident's row too (a section's count of 1,021 rows:
    13.5 ms, 6,817 buffers)."""
    return Deadline.objects.pending().filter(visible_rows(user, probe=True))


def owed_listed(user):
    """``owed_by(user)`` as 我的待办 lists it: soonest first, the values of ``OWED_COLUMNS`` (the
    incident's title, ``content_ok`` for R54), visibility probed at each row."""
    owed = _owed_q(user)
    if owed is None:
        return Deadline.objects.none().values_list(*OWED_COLUMNS)
    return (_owed_probed(user).filter(owed)
            .annotate(owner_code=Coalesce("owner_section__code", "owner_body__code"),  # the section's first
                      owner_name=Coalesce("owner_section__name", "owner_body__name"),
                      title=F("incident__title"), content_ok=content_flag(user, "incident_id"))
            .order_by("due_at", "id").values_list(*OWED_COLUMNS))


def visible_deadlines(user):
    """Deadlines of the incidents visible to the caller (GET /api/v1/deadlines/)."""
    return (Deadline.objects.filter(visible_rows(user))
            .select_related("owner_section", "owner_body", "met_by").order_by("due_at", "id"))


def notifications_of(user, *, unread_only=False):
    """The user's own notifications, newest first."""
    qs = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
