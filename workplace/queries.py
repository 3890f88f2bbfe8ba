"""Read-only queries of the pages. Every one starts from ``Incident.objects.visible_to(user)``:
the same visibility rule as the API."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from deadlines.models import Deadline
from deadlines.notifications import unread_count
from early_warnings.models import NoticeReceipt
from incidents import permissions as perms
from incidents.models import Incident, State
from responses.models import Response, ResponseProposal, ResponseState

DUE_SOON = dt.timedelta(hours=3)


def visible_pks(user):
    return Incident.objects.visible_to(user).values("pk")


def approvals(user):
    """Proposals waiting for a body the user sits in: a start/raise/lower proposal at one of
    the user's levels, or a lift proposal of a response active at one of them (R4, R30)."""
    levels = perms.body_levels(user)
    if not levels:
        return Response.objects.none()
    return (Response.objects.filter(incident__in=visible_pks(user))
            .filter(Q(proposal__decision=ResponseProposal.Decision.PENDING, proposal__level__in=levels)
                    | Q(state=ResponseState.LIFT_PROPOSED, level__in=levels))
            .select_related("incident", "incident__reported_by", "proposal", "proposal__proposed_by",
                            "lift_proposed_by")
            .prefetch_related("incident__sections")
            .order_by("incident__reported_at"))


def has_duties(user) -> bool:
    return user.sections.exists() or user.bodies.exists()


def todo_deadlines(user):
    """Pending deadlines (open or missed) owed by the user's sections or bodies, soonest first."""
    section_ids = list(user.sections.values_list("pk", flat=True))
    body_ids = list(user.bodies.values_list("pk", flat=True))
    if not section_ids and not body_ids:
        return Deadline.objects.none()
    return (Deadline.objects.pending()
            .filter(incident__in=visible_pks(user))
            .exclude(incident__state=State.CLOSED)
            .filter(Q(owner_section__in=section_ids) | Q(owner_body__in=body_ids))
            .select_related("incident", "owner_section", "owner_body")
            .prefetch_related("incident__sections")
            .order_by("due_at", "id"))


def unsigned_receipts(user):
    """Warning notices sent to the user's sections and not yet signed for (签收)."""
    section_ids = list(user.sections.values_list("pk", flat=True))
    if not section_ids:
        return NoticeReceipt.objects.none()
    return (NoticeReceipt.objects.filter(section__in=section_ids, signed_at__isnull=True,
                                         notice__incident__in=visible_pks(user))
            .exclude(notice__incident__state=State.CLOSED)
            .select_related("notice", "notice__incident", "section")
            .prefetch_related("notice__incident__sections")
            .order_by("notice__issued_at", "id"))


def pending_deadlines(user):
    """Open or missed deadlines on the incidents the user sees."""
    return (Deadline.objects.pending().filter(incident__in=visible_pks(user))
            .exclude(incident__state=State.CLOSED)
            .select_related("incident", "owner_section", "owner_body")
            .prefetch_related("incident__sections")
            .order_by("due_at", "id"))


def overdue_and_due_soon(user, now=None):
    now = now or timezone.now()
    pending = pending_deadlines(user)
    return pending.filter(due_at__lt=now), pending.filter(due_at__gte=now, due_at__lt=now + DUE_SOON)


def unread(request) -> int:
    """The user's unread notices: one COUNT per request, shared by the navigation badge and
    the page (call it only after the request's own writes)."""
    if not hasattr(request, "_unread_notifications"):
        request._unread_notifications = unread_count(request.user)
    return request._unread_notifications
