"""Reads of responses for the pages and the API."""

from django.db.models import Q

from incidents import permissions as perms
from incidents.selectors import visible_rows

from .models import Response, ResponseProposal, ResponseState


def approvals(user):
    """Proposals waiting for a body the user sits in: a start/raise/lower proposal whose
    deciding level (the higher of the current and the proposed) is one of the user's, or a lift
    proposal of a response active at one of them (R4, R30)."""
    levels = perms.body_levels(user)
    if not levels:
        return Response.objects.none()
    return _joined(Response.objects.filter(visible_rows(user))
                   .filter(Q(proposal__decision=ResponseProposal.Decision.PENDING,
                             proposal__deciding_level__in=levels)
                           | Q(state=ResponseState.LIFT_PROPOSED, level__in=levels))
                   .order_by("incident__reported_at", "incident_id"))


def approvals_by_key(keys):
    """The responses of ``keys`` (a page of ``approvals``) with what the inbox shows of them."""
    return _joined(Response.objects.filter(pk__in=keys))


def _joined(responses):
    return responses.select_related("incident", "incident__reported_by", "incident__warning__current", "proposal",
                                    "proposal__proposed_by", "lift_proposed_by")
