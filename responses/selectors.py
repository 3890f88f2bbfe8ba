"""Reads of responses for the pages and the API."""


from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Q

from incidents import permissions as perms
from incidents.selectors import content_flag, visible_rows
from organization.selectors import identity_key, stable_days_target
from sentiment_ops import prepared

from .models import Response, ResponseProposal, ResponseState


def _waiting(levels=None) -> Q:
    """The two ways a response waits for a body (R4, R30): a start/raise/lower proposal pending
    at its deciding level (the higher of the current and the proposed), or a lift proposed of
    a response at its level; at ``levels``, or at any level when None. A response's
    ``proposal`` is set only while it is pending, and neither can be proposed while the other
    waits (responses.services), so the two never meet; every waiting response is a row of the
    partial index ``response_waiting``, which this filter's OR implies."""
    pending = Q(proposal__isnull=False)
    lifting = Q(state=ResponseState.LIFT_PROPOSED)
    if levels is not None:
        # A subquery on the pending proposals' own index (``proposal_pending_level``): joined
        # inside the OR, PostgreSQL hashed every proposal ever made.
        pending &= Q(proposal__in=ResponseProposal.objects.filter(
            decision=ResponseProposal.Decision.PENDING, deciding_level__in=levels).values("pk"))
        lifting &= Q(level__in=levels)
    return pending | lifting


def approvals(user):
    """Proposals waiting for a body the user sits in (``_waiting`` at the user's levels)."""
    levels = perms.body_levels(user)
    if not levels:
        return Response.objects.none()
    return _joined(Response.objects.filter(visible_rows(user)).filter(_waiting(levels))
                   .order_by("reported_at", "incident_id"))


def waiting_keys(user, levels=None, *, ordered=True):
    """(response, incident, reported_at) of the responses waiting for a decision at ``levels``
    (every level when None) that ``user`` may see, oldest report first (``approvals``'
    order), read from the partial index of the waiting responses in that order
    (``response_waiting``: the response carries its incident's report time), so that the
    first few cost a few index rows whatever the number waiting. ``ordered=False``: the
    response keys alone, to count."""
    rows = Response.objects.filter(visible_rows(user)).filter(_waiting(levels))
    if not ordered:
        return rows.values("pk")
    return rows.annotate(at=F("reported_at")).values_list("pk", "incident_id", "at").order_by("at", "incident_id")


def waiting_page(user, levels, offset: int, limit: int, using: str = DEFAULT_DB_ALIAS):
    """The ``limit`` keys of ``waiting_keys(user, levels)`` from ``offset`` in its order, as
    (response, incident) pairs, and how many wait in all — None when no row is at ``offset`` —
    in one statement: a window ``COUNT(*) OVER ()`` beside the page, since the order is one no
    index serves and the page's sort reads every waiting row anyway. Its SQL is compiled once
    per process for the user's identity and ``levels`` (sentiment_ops.prepared)."""
    def build(_now):
        query = waiting_keys(user, levels).order_by().query
        try:
            sql, params = query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            raise prepared.Empty from None
        q = connections[using].ops.quote_name
        return (f"SELECT k.{q('pk')}, k.{q('incident_id')}, COUNT(*) OVER () FROM ({sql}) k "
                f"ORDER BY k.{q('at')}, k.{q('incident_id')}", params)

    try:
        text, params = prepared.sql(("responses.waiting_page", identity_key(user), tuple(levels)), build,
                                    using=using)
    except prepared.Empty:
        return [], None
    with connections[using].cursor() as cursor:
        cursor.execute(f"{text} LIMIT %s OFFSET %s", [*params, limit, offset])
        rows = cursor.fetchall()
    return [(response, incident) for response, incident, _n in rows], (rows[0][2] if rows else None)


# What the approvals inbox prints of each proposal (workplace.views._approval_items), by name.
APPROVAL_VALUES = (
    "pk", "incident_id", "state", "level", "lift_reason", "lift_proposed_by_id", "lift_proposed_by__full_name",
    "lift_proposed_by__username", "stable_working_days", "proposal_id",
    "incident__title", "incident__classified", "incident__state", "incident__reported_by_id",
    "proposal__level", "proposal__from_level", "proposal__reason", "proposal__proposed_by_id",
    "proposal__proposed_by__full_name", "proposal__proposed_by__username", "proposal__proposed_at",
    "incident__warning__state", "incident__warning__level", "incident__warning__current_id",
    "incident__warning__current__subject", "incident__warning__current__matters",
    "content_ok", "needed_days",
)


def approval_values(user, keys) -> list[dict]:
    """The responses of ``keys`` (a page of ``waiting_keys``) as plain values, in the keys'
    order: ``APPROVAL_VALUES`` by name, ``content_ok`` R54 for ``user``
    (``incidents.selectors.content_flag``) and ``needed_days`` the stable working days its
    level needs (``organization.selectors.stable_days_target``); one statement compiled once
    per process for the user's identity (sentiment_ops.prepared.by_ids)."""
    keys = list(keys)
    if not keys:
        return []
    key = identity_key(user)
    build = prepared.Keyed(key, lambda ids: (
        Response.objects.filter(pk__in=ids).order_by()
        .annotate(content_ok=content_flag(user, "incident_id"), needed_days=stable_days_target("level"))
        .values_list(*APPROVAL_VALUES)))
    found = {row[0]: dict(zip(APPROVAL_VALUES, row, strict=True))
             for row in prepared.by_ids(("responses.approval_values", key), build, keys)}
    return [found[key] for key in keys if key in found]


def _joined(responses):
    return responses.select_related("incident", "incident__reported_by", "incident__warning__current", "proposal",
                                    "proposal__proposed_by", "lift_proposed_by")
