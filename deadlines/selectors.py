"""Reads of deadlines and notifications, shared by the API, the pages and the sweep."""

from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, State
from incidents.selectors import visible_pks
from organization.selectors import unit_ids

from . import policy
from .models import Deadline, Notification

# The incident's states in which a response is running (active or its lift proposed): the
# incident FSM enters RESPONDING on approval and leaves it on the lift (R30, R32).
RESPONSE_RUNNING = State.RESPONDING


def governing_levels(incident_ids) -> dict[int, int]:
    """Per incident, the level that governs quiet hours: the running response's, else the
    active warning's (``policy.exempt_from_quiet_hours``). One query."""
    levels = {}
    rows = Incident.objects.filter(pk__in=list(incident_ids)).values_list(
        "pk", "state", "response__level", "warning__state", "warning__level")
    for pk, state, response_level, warning_state, warning_level in rows:
        if state == RESPONSE_RUNNING and response_level:
            levels[pk] = response_level
        elif warning_state == "active":  # early_warnings' WarningState.ACTIVE
            levels[pk] = warning_level
    return levels


def response_level(incident) -> int | None:
    """The level of the incident's running response, read fresh (not a cached relation)."""
    return (Incident.objects.filter(pk=incident.pk, state=RESPONSE_RUNNING)
            .values_list("response__level", flat=True).first())


# --- the pages' lists -------------------------------------------------------------------

def pending_deadlines(user):
    """Open or missed deadlines on the open incidents the user sees, soonest first."""
    return (Deadline.objects.pending().filter(incident__in=visible_pks(user))
            .exclude(incident__state=State.CLOSED)
            .select_related("incident", "owner_section", "owner_body")
            .prefetch_related("incident__sections")
            .order_by("due_at", "id"))


def overdue_and_due_soon(user, now=None):
    now = now or timezone.now()
    pending = pending_deadlines(user)
    return pending.filter(due_at__lt=now), pending.filter(due_at__gte=now, due_at__lt=now + policy.DUE_SOON)


def owed_by(user):
    """Pending deadlines owed by the user's sections or bodies, soonest first (我的待办)."""
    section_ids, body_ids = unit_ids(user)
    if not section_ids and not body_ids:
        return Deadline.objects.none()
    return pending_deadlines(user).filter(Q(owner_section__in=section_ids) | Q(owner_body__in=body_ids))


def visible_deadlines(user):
    """Deadlines of the incidents visible to the caller (GET /api/v1/deadlines/)."""
    return (Deadline.objects.filter(incident__in=visible_pks(user))
            .select_related("owner_section", "owner_body", "met_by").order_by("due_at", "id"))


def notifications_of(user, *, unread_only=False):
    """The user's own notifications, newest first."""
    qs = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
