"""Reads of incidents. Every list, search, detail and download starts here: ``visible`` is
the one visibility rule (R1–R6) applied, ``get_incident_for`` the one access function."""

import functools

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils.translation import gettext as _

from organization.selectors import identity_key
from sentiment_ops import prepared

from . import counted
from . import permissions as perms
from .models import Assignment, Incident, Judgment, State, TimelineEvent
from .search import frequencies, indexed_match


def visible(user, queryset=None, *, probe: bool = False):
    """The incidents ``user`` may see (no duplicates: every branch of the rule is a subquery
    or a one-to-one join). ``probe``: the sections' branch tested at each incident
    (``permissions.Probe``), for a list read newest first a page at a time."""
    qs = Incident.objects.all() if queryset is None else queryset
    return qs.filter(perms.visibility_filter(user, probe=probe)) if user.is_authenticated else qs.none()


def count_visible(user, queryset=None, *, cap: int | None = None) -> int:
    """``visible(user, queryset).count()``, counted from indexes in one statement: for a user
    who sees through several branches of the rule (their sections' assignments, what they
    logged, their body's levels), the sum of disjoint parts, each branch's incidents less
    those of the branches before it (the OR of the branches is a sequential scan of every
    incident, the UNION of their ids hashes every id). The first part, the sections' branch,
    is counted from the sections' assignment rows alone (an index-only scan) when nothing
    filters the incidents; under the list's filters it is a semi-join like the others.
    For a user who sees every incident, unfiltered and exact: the count the database keeps
    (``incidents.counted``: one row and the recent log, on PostgreSQL; SQLite counts the rows).
    Unfiltered, the statement is compiled once per process for the user's identity (and
    planned once per connection: ``prepared.fetch``)."""
    qs = (Incident.objects.all() if queryset is None else queryset).order_by()
    if not user.is_authenticated:
        return 0
    if not qs.query.where:
        [(n,)] = prepared.fetch(("incidents.count_visible", identity_key(user), qs.db, cap),
                                lambda _now: _count_statement(user, qs, cap) or ("SELECT 0", []), using=qs.db)
        return n
    statement = _count_statement(user, qs, cap)
    if statement is None:
        return 0
    with connections[qs.db].cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchone()[0]


def _count_statement(user, qs, cap) -> tuple[str, list] | None:
    """The SQL of ``count_visible`` (None: nothing to count)."""
    summed = _count_sum(user, qs, cap)
    return None if summed is None else ("SELECT " + summed[0], summed[1])


def _count_sum(user, qs, cap) -> tuple[str, list] | None:
    """``count_visible``'s sum of counts, an SQL expression (``prepared.sum_of_counts``)."""
    branches = perms.visibility_branches(user)
    if branches is None:
        if cap is None and not qs.query.where and counted.kept(qs.db):
            return f"({counted.STATEMENT})", []
        if cap is None:
            return prepared.sum_of_counts([qs.values(n=Func(template="COUNT(*)", output_field=IntegerField()))])
        return prepared.sum_of_counts([qs.values("pk")[:cap]], capped=True)
    assigned = perms.section_assignments(user)
    parts = []
    for i, branch in enumerate(branches):
        if i == 0 and assigned is not None and not qs.query.where:
            # (incident, section) is unique: one row per incident when there is one section.
            several = len(perms.user_section_ids(user)) > 1
            if cap is not None:
                ids = assigned.order_by().values("incident_id")
                parts.append((ids.distinct() if several else ids)[:cap])
                continue
            distinct = "DISTINCT " if several else ""
            parts.append(assigned.order_by().values(n=Func(
                F("incident_id"), function="COUNT", template=f"%(function)s({distinct}%(expressions)s)")))
            continue
        part = qs.filter(branch)
        for earlier in branches[:i]:
            part = part.exclude(earlier)
        parts.append(part.values(n=Func(F("pk"), function="COUNT")) if cap is None else part.values("pk")[:cap])
    return prepared.sum_of_counts(parts, capped=cap is not None)


def _per_user(user, key, build):
    """``build()`` once per user object — a request's user: these filters depend on nothing
    but who the user is (``User.identity``, itself read once per object), and a page with its
    navigation asks for the same ones several times (building each was ~1 ms)."""
    memo = user.__dict__.setdefault("_selector_memo", {})
    if key not in memo:
        memo[key] = build()
    return memo[key]


def visible_pks(user):
    """The visible incidents as a subquery of primary keys (``incident__in=…``)."""
    return _per_user(user, "visible_pks", lambda: visible(user).values("pk")).all()


def visible_rows(user, path: str = "incident", *, probe: bool = False) -> Q:
    """A filter on rows that belong to an incident (``path``: the foreign key's lookup path)
    keeping those of the incidents ``user`` may see: nothing to filter for those who see
    everything (no semi-join over every incident), else the visible incidents' subquery.
    ``probe``: the rule's branches tested at each row instead (``visibility_branches`` at
    ``path``), for rows few and read whole, e.g. a section's notices to sign: their
    incidents' subquery is an OR no index serves, each row then joined to its incident."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if perms.sees_everything(user):
        return Q()
    if probe:
        return _per_user(user, ("probe_rows", path), lambda: perms.visibility_filter(user, at=path))
    return _per_user(user, ("visible_rows", path), lambda: Q(**{f"{path}__in": visible_pks(user)}))


def content_flag(user, ref: str = "pk"):
    """R54 as an annotation: True where ``user`` may read the content of the incident whose
    id is the outer row's ``ref`` (``"pk"`` on incidents, ``"incident_id"`` on their rows).
    Lists annotate it so that showing a title costs no query per row. On an incident's rows
    (deadlines, receipts) it is probed at each row shown (``perms.Probe``): for a body's member
    the rule's OR of joins made PostgreSQL hash it over every incident (我的待办 of a section
    and body member: 285 ms for 20 titles at 100,000 incidents)."""
    def build():
        readable = perms.content_readable(user)
        if not readable:  # reads every content
            return Value(True, output_field=BooleanField())
        return (Exists if ref == "pk" else perms.Probe)(Incident.objects.filter(readable, pk=OuterRef(ref)))

    return _per_user(user, ("content_flag", ref), build) if user.is_authenticated else build()


def awaiting_judgment(user):
    """待研判: the incidents logged and not yet judged that ``user`` sees, oldest first (the
    command group's queue on the dashboard)."""
    return (visible(user).filter(judged_at__isnull=True).exclude(state=State.CLOSED)
            .annotate(content_ok=content_flag(user)).order_by("reported_at", "pk"))


def get_incident_for(user, pk, *, queryset=None) -> Incident:
    """The one access function: the incident if ``user`` may see it, else 404 (never saying
    whether it exists)."""
    try:
        return visible(user, queryset).get(pk=pk)
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# Each term adds eight ILIKE conditions and a subquery: the work of one search is bounded here
# (400 terms took 24 s, 2,000 terms half an hour in PostgreSQL).
SEARCH_MAX_TERMS = 8
SEARCH_MAX_TERM_LENGTH = 50


def validate_search(q: str) -> None:
    """The search's bounds: at most ``SEARCH_MAX_TERMS`` terms of at most
    ``SEARCH_MAX_TERM_LENGTH`` characters each (ValidationError, 400 on ``q``)."""
    terms = (q or "").split()
    if len(terms) > SEARCH_MAX_TERMS or any(len(t) > SEARCH_MAX_TERM_LENGTH for t in terms):
        raise ValidationError(
            _("搜索词最多 %(terms)s 个（以空格分隔），每个不超过 %(length)s 个字符。")
            % {"terms": SEARCH_MAX_TERMS, "length": SEARCH_MAX_TERM_LENGTH},
            code="search_too_long")


def search(qs, user, q: str):
    """Every whitespace-separated term must appear (Chinese has no word breaks, so terms
    are matched as substrings) in the title, summary, keywords, background, concerns, a
    source, a report or a statement — found from the token index (incidents/search.py). A
    classified incident matches on content only for those who may read it (R54)."""
    validate_search(q)
    readable = perms.content_readable(user)
    terms = q.split()
    counts = frequencies(terms)  # the longer terms' bigrams: which is rare (one query)
    for term in terms:
        qs = qs.filter(indexed_match(term, counts) & readable)
    return qs


# --- the latest of each incident's history, for a page of incidents ---------------------

def assigned_sections(incident_ids) -> dict[int, list[tuple[str, str]]]:
    """Per incident, its assigned sections' (code, name) in the sections' order (what
    ``incident.sections.all()`` lists; the codes are R54's ``assigned_codes``): one query of
    values, without a prefetch's model instances and managers."""
    ids = list(incident_ids)
    found: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    if ids:  # compiled once per process and number of ids
        for incident_id, code, name in prepared.by_ids("incidents.assigned_sections", _assigned_rows, ids):
            found[incident_id].append((code, name))
    return found


def _assigned_rows(ids):
    return (Assignment.objects.filter(incident__in=ids).order_by("section__order", "section__code")
            .values_list("incident_id", "section__code", "section__name"))


def _latest_judged(incident_ids):
    """The command group's latest judgment of each incident (the one that sets severity and
    the recommended levels; a section's own is not it)."""
    latest = Judgment.objects.filter(incident=OuterRef("incident"), section__isnull=True).order_by("-judged_at", "-id").values("pk")[:1]
    return Judgment.objects.filter(incident__in=incident_ids, pk=Subquery(latest))


def latest_judgments(incident_ids) -> dict[int, Judgment]:
    """Per incident, the command group's latest judgment, with who judged: one query for any
    number."""
    return {j.incident_id: j for j in _latest_judged(list(incident_ids)).select_related("judged_by")}


def _latest_judgment_values(incident_ids):
    return (_latest_judged(incident_ids).order_by()
            .values_list("incident_id", "severity", "veracity", "judged_at", "analysis", "recommended_response_level"))


def latest_judgment_values(incident_ids) -> dict[int, tuple]:
    """``latest_judgments`` as plain values — (severity, veracity, judged_at, analysis,
    recommended_response_level) per incident, without who judged — in one statement compiled
    once per process (sentiment_ops.prepared.by_ids)."""
    ids = list(incident_ids)
    if not ids:
        return {}
    return {row[0]: row[1:] for row in prepared.by_ids("latest_judgment_values", _latest_judgment_values, ids)}


def latest_ranked(incident_ids, count: int):
    """Each incident's ``count`` latest timeline events, newest first (a window function over
    the events of these incidents, served by the (incident, at) index)."""
    rank = Window(RowNumber(), partition_by=F("incident_id"), order_by=[F("at").desc(), F("id").desc()])
    return (TimelineEvent.objects.filter(incident__in=incident_ids).annotate(rank=rank).filter(rank__lte=count)
            .order_by("incident_id", "-at", "-id"))


@functools.cache
def _latest_event_values(count: int):
    def build(incident_ids):
        return (latest_ranked(incident_ids, count)
                .values_list("incident_id", "at", "actor__full_name", "actor__username", "verb"))
    return build


def latest_event_values(incident_ids, count: int) -> dict[int, list[tuple]]:
    """``latest_events`` as plain values — (at, actor's name or None, verb) per event, newest
    first — in one statement compiled once per process (sentiment_ops.prepared.by_ids). The
    actor's name is what ``str(user)`` prints (its full name, else its username)."""
    ids = list(incident_ids)
    events: dict[int, list[tuple]] = {}
    if not ids:
        return events
    for incident_id, at, full_name, username, verb in prepared.by_ids(
            ("latest_event_values", count), _latest_event_values(count), ids):
        events.setdefault(incident_id, []).append((at, full_name or username, verb))
    return events


def latest_events(incident_ids, count: int) -> dict[int, list[TimelineEvent]]:
    """Per incident, its ``count`` latest timeline events, newest first: one query (a window
    function over the events of these incidents, served by the (incident, at) index)."""
    events: dict[int, list[TimelineEvent]] = {}
    for event in latest_ranked(list(incident_ids), count).select_related("actor"):
        events.setdefault(event.incident_id, []).append(event)
    return events
