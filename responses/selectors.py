"""Reads of responses for the pages and the API."""

from django.db.models import F, Q

from incidents import permissions as perms
from incidents.selectors import visible_rows

from .models import Response, ResponseProposal, ResponseState


def _waiting(levels=None) -> tuple[Q, Q]:
    """The two ways a response waits for a body (R4, R30): a start/raise/lower proposal pending
    at its deciding level (the higher of the current and the proposed), or a lift proposed of
    a response at its level; at ``levels``, or at any level when None."""
    pending = Q(proposal__decision=ResponseProposal.Decision.PENDING)
    lifting = Q(state=ResponseState.LIFT_PROPOSED)
    if levels is not None:
        pending &= Q(proposal__deciding_level__in=levels)
        lifting &= Q(level__in=levels)
    return pending, lifting


def approvals(user):
    """Proposals waiting for a body the user sits in (``_waiting`` at the user's levels)."""
    levels = perms.body_levels(user)
    if not levels:
        return Response.objects.none()
    pending, lifting = _waiting(levels)
    return _joined(Response.objects.filter(visible_rows(user)).filter(pending | lifting)
                   .order_by("incident__reported_at", "incident_id"))


def waiting_keys(user, levels=None, *, ordered=True):
    """(response, incident, reported_at) of the responses waiting for a decision at ``levels``
    (every level when None) that ``user`` may see, oldest report first (``approvals``'
    order): a UNION of the two ways of waiting, each read from its partial index
    (``proposal_pending_level``, ``response_lift_proposed``), sorted as a whole. Its order is
    one no index of the incidents serves, so PostgreSQL reads the few waiting rows instead of
    walking every incident in report order in search of them (100 ms at 100,000 incidents).
    ``ordered=False``: the response keys alone, to count."""
    def part(condition):
        rows = Response.objects.filter(visible_rows(user)).filter(condition)
        if not ordered:
            return rows.values("pk")
        return rows.annotate(at=F("incident__reported_at")).values_list("pk", "incident_id", "at")

    pending, lifting = _waiting(levels)
    keys = part(pending).union(part(lifting))
    return keys.order_by("at", "incident_id") if ordered else keys


def approvals_by_key(keys):
    """The responses of ``keys`` (a page of ``approvals``) with what the inbox shows of them."""
    return _joined(Response.objects.filter(pk__in=keys))


def _joined(responses):
    return responses.select_related("incident", "incident__reported_by", "incident__warning__current", "proposal",
                                    "proposal__proposed_by", "lift_proposed_by")
