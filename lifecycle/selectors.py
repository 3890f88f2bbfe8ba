"""Reads that span the case's apps, shared by the JSON API and the pages."""

import datetime as dt
import json

import django_filters
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, JSONObject, RowNumber
from django.http import Http404
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.policy import DUE_SOON
from early_warnings.models import NoticeReceipt, WarningNotice, WarningState
from incidents import permissions as perms
from incidents.models import (
    Assignment,
    Attachment,
    Incident,
    Judgment,
    Source,
    SpreadFigure,
    State,
    TimelineEvent,
)
from incidents.selectors import latest_ranked, search, validate_search, visible
from organization.models import Body, Section, User
from organization.selectors import identity_key, stable_days_target
from responses.models import (
    Consultation,
    ConsultationDecision,
    Instruction,
    PublicityAction,
    Report,
    ReportKind,
    ResponseProposal,
    ResponseState,
    StabilityAssessment,
    Statement,
    StatementState,
    SupportRequest,
)
from sentiment_ops import prepared
from sentiment_ops.prepared import Precompiled

# API.md v1.1 "Paged sub-resources": the representation embeds the latest EMBEDDED timeline
# events, and the deadlines still owed plus the latest EMBEDDED others; the rest is paged.
EMBEDDED = 100
OWED = [DeadlineState.OPEN, DeadlineState.MISSED]


def _count_of(model, **filters):
    """COUNT of the outer incident's rows of ``model`` as a scalar subquery (index-only)."""
    rows = model.objects.filter(incident=OuterRef("pk"), **filters).order_by().values("incident")
    return Subquery(rows.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField())


def _embedded_deadlines(deadlines):
    """The deadlines still owed and the latest EMBEDDED others, in ONE query: each row ranked
    among its incident's owed or other rows, newest first, and kept while its rank is within
    its kind's cap (no cap for the owed)."""
    owed = Q(state__in=OWED)
    return (deadlines
            .annotate(is_owed=Case(When(owed, then=Value(True)), default=Value(False)),
                      cap=Case(When(owed, then=Value(2**31 - 1)), default=Value(EMBEDDED)))
            .annotate(rank=Window(RowNumber(), partition_by=[F("incident_id"), F("is_owed")],
                                  order_by=[F("due_at").desc(), F("id").desc()]))
            .filter(rank__lte=F("cap")))


def with_names(events):
    """Timeline events with their actor's username (``actor_name``) from the join, not a user
    object per event: what the JSON needs of the actor."""
    return events.annotate(actor_name=F("actor__username"))


def incident_queryset(user):
    """Visible incidents as the incident's representation (API.md) reads
    them: the row with its one-to-one relations joined. Its lists, the totals of the paged ones
    and its level's stable days: ``incident_parts``."""
    return _represented(visible(user))


_REPRESENTED = ("warning__current", "response__proposal")


def _represented(incidents):
    """``incidents`` with what the representation reads of them joined: the warning and its
    current notice, the response and its proposal as objects; of the two users, the reporter
    and the notice's issuer, only their usernames (``reported_by_name``, ``issued_by_name``):
    they were two of the seven objects built per incident, for one column each (the API list's
    rows ~1.7 → ~1.3 ms in-process)."""
    return incidents.select_related(*_REPRESENTED).annotate(
        reported_by_name=F("reported_by__username"), issued_by_name=F("warning__current__issued_by__username"))


ORDER = tuple(Incident._meta.ordering)


def _rows_among(marker):
    return _represented(Incident.objects.filter(pk__in=marker)).order_by(*ORDER)


def incident_rows(keys: tuple[str, list], server=None) -> list[Incident]:
    """The incidents whose ids the subquery ``keys`` (its SQL and parameters) selects, as
    ``incident_queryset`` reads them, in the incidents' order (newest first), in ONE
    statement: the rows' (six tables, a hundred columns) compiled once per process
    (``prepared.among``), the subquery — visibility, filters, the page — put in it;
    ``server``: planned once per connection too (``prepared.among``'s)."""
    return prepared.among("lifecycle.incident_rows", _rows_among, keys, server=server)


_HOLDER = -(10**9) - 4321  # an id no row has, in the statement's place of the one asked for


def incident_for(user, pk) -> Incident | None:
    """``incident_queryset(user).filter(pk=pk).first()`` in one statement compiled once per
    process for the user's identity (``incident_rows``, the visibility rule's subquery with
    the id in the holder's place); None when ``user`` may not see it or it does not exist."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not user.is_authenticated or not -(2**63) <= pk < 2**63:
        return None
    try:
        sql, params = prepared.sql(("lifecycle.incident_for", identity_key(user)),
                                   lambda _now: visible(user, Incident.objects.filter(pk=_HOLDER)).values("pk"))
    except prepared.Empty:
        return None
    holders = {i: 1 for i, p in enumerate(params) if p == _HOLDER}
    found = incident_rows((sql, [pk if p == _HOLDER else p for p in params]),
                          server=(("lifecycle.incident_for", identity_key(user)), holders) if holders else None)
    return found[0] if found else None


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def incident_page(user, queryset, start: int, stop: int) -> list[Incident]:
    """The incidents ``start:stop`` among those of ``queryset`` visible to ``user``, newest
    first, as ``incident_queryset`` reads them, in one statement (``page_keys`` in
    ``incident_rows``); unfiltered, planned once per connection for the user's identity and
    the page."""
    keys = page_keys(user, queryset, start, stop)
    if keys is None:
        return []
    unfiltered = user.is_authenticated and not queryset.query.where
    return incident_rows(keys, server=(("lifecycle.page", identity_key(user), start, stop), {}) if unfiltered else None)


def page_keys(user, queryset, start: int, stop: int) -> tuple[str, list] | None:
    """The subquery of the ids of the incidents ``start:stop`` among those of ``queryset``
    visible to ``user``, newest first (``incident_rows`` reads them). For a user who sees
    through several branches of the rule (``visibility_branches``) on PostgreSQL: among the
    first ``stop`` of each branch, each read from its own index (their OR is a hashed
    subplan of every assignment of the user's sections: 7 ms for a section at 100,000
    incidents; a branch's first 20 in newest-first order, 0.3 ms). Unfiltered, its SQL is
    compiled once per process for the user's identity and the page. None: nothing to read."""
    filtered = bool(queryset.query.where)

    def build():
        branches = perms.visibility_branches(user) if user.is_authenticated else None
        if (branches is None or len(branches) == 1
                or not connection.features.supports_slicing_ordering_in_compound):
            return visible(user, queryset).values("pk")[start:stop]
        tops = [queryset.filter(branch).order_by(*ORDER).values("pk")[:stop] for branch in branches]
        first, *rest = tops
        return Incident.objects.filter(pk__in=first.union(*rest, all=True)).order_by(*ORDER).values("pk")[start:stop]

    try:
        if filtered or not user.is_authenticated:
            return _sql(build())
        return prepared.sql(("lifecycle.page_keys", identity_key(user), start, stop), lambda _now: build())
    except (EmptyResultSet, prepared.Empty):  # the ORM's, or the kept statement's
        return None


# --- the lists of the representation, for a page of incidents in three queries -------------
# Every list but the timeline and the deadlines is small and is read in ONE ``UNION ALL`` of
# rows (part, parent id, JSON object of the row's fields), whatever the number of lists: a
# query per list cost more in the ORM than the rows did. Each part: the model, the lookup of
# its parent (the incident — or, for the incident's own figures, its id — or a consultation),
# the fields, and how its rows are ordered.
_PARTS = {
    # the incident's own figures: the totals of its paged lists, its level's stable days
    "totals": (Incident, "id", {"timeline_count": Coalesce(_count_of(TimelineEvent), 0),
                                "deadline_count": Coalesce(_count_of(Deadline), 0),
                                "stable_days": stable_days_target("response__level")}, ()),
    "sections": (Assignment, "incident_id", {"code": F("section__code"), "order": F("section__order")},
                 ("order", "code")),
    "sources": (Source, "incident_id", {"id": F("id"), "url": F("url"), "platform": F("platform"),
                                        "mainstream_first": F("mainstream_first"), "title": F("title")}, ("id",)),
    "attachments": (Attachment, "incident_id", {
        "id": F("id"), "name": F("name"), "kind": F("kind"), "size": F("size"), "sha256": F("sha256"),
        "note": F("note"), "uploaded_at": F("uploaded_at"), "uploaded_by": F("uploaded_by__username")},
        ("uploaded_at", "id")),
    "reports": (Report, "incident_id", {
        "id": F("id"), "kind": F("kind"), "section": F("section__code"), "zero": F("zero"),
        "submitted_at": F("submitted_at"), "submitted_by": F("author__username")}, ("submitted_at", "id")),
    "statements": (Statement, "incident_id", {
        "id": F("id"), "kind": F("kind"), "section": F("section__code"), "title": F("title"), "state": F("state"),
        "drafted_by": F("drafted_by__username"), "decided_by": F("decided_by__username"),
        "drafted_at": F("drafted_at")}, ("drafted_at", "id")),
    "judgments": (Judgment, "incident_id", {
        "id": F("id"), "mode": F("mode"), "section": F("section__code"), "veracity": F("veracity"),
        "severity": F("severity"), "analysis": F("analysis"),
        "recommended_warning_level": F("recommended_warning_level"),
        "recommended_response_level": F("recommended_response_level"), "participants": F("participants"),
        "judged_by": F("judged_by__username"), "judged_at": F("judged_at")}, ("judged_at", "id")),
    "instructions": (Instruction, "incident_id", {
        "id": F("id"), "subject": F("subject"), "proposal": F("proposal_id"), "level": F("level"),
        "decision": F("decision"), "text": F("text"), "author": F("author__username"),
        "written_at": F("written_at")}, ("written_at", "id")),
    "consultations": (Consultation, "incident_id", {
        "id": F("id"), "agenda": F("agenda"), "convened_by": F("convened_by__username"),
        "convened_at": F("convened_at"), "outside": F("outside"), "minutes": F("minutes"),
        "recorded_at": F("recorded_at"), "recorded_by": F("recorded_by__username")}, ("convened_at", "id")),
    # the consultations' own lists, by consultation
    "participants": (Consultation.participants.through, "consultation_id",
                     {"user_id": F("user_id"), "username": F("user__username")}, ("user_id",)),
    "consultation_sections": (Consultation.sections.through, "consultation_id",
                              {"code": F("section__code"), "order": F("section__order")}, ("order", "code")),
    "decisions": (ConsultationDecision, "consultation_id", {
        "id": F("id"), "text": F("text"), "section": F("section__code"), "due_at": F("due_at"),
        "deadline": F("deadline_id"), "state": F("deadline__state"), "completed_at": F("completed_at"),
        "completed_by": F("completed_by__username"), "note": F("note")}, ("id",)),
    # the receipts of the incidents' current warning notices, in the sections' order
    "receipts": (NoticeReceipt, "notice__incident_id", {
        "section": F("section__code"), "order": F("section__order"), "signed_at": F("signed_at"),
        "signed_by": F("signed_by__username")}, ("order", "section")),
}
_BY_CONSULTATION = ("participants", "consultation_sections", "decisions")
_INSTANTS = {"uploaded_at", "submitted_at", "drafted_at", "judged_at", "written_at", "convened_at", "recorded_at",
             "due_at", "completed_at", "signed_at"}
_FLAGS = {"mainstream_first", "zero"}
_LISTS = {"participants", "outside"}


class _Row(JSONObject):
    """``JSONObject`` without Django's probe of SQLite's JSON support (a savepoint and a query,
    once per connection, inside whichever request comes first): the project's models already
    need it (``JSONField``), and every SQLite Django supports has ``JSON_OBJECT``."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return Func.as_sql(self, compiler, connection, **extra_context)


def _instant(text):
    """A datetime as a JSON object carries it (PostgreSQL: ISO 8601 with offset; SQLite: the
    stored UTC text) back to an aware datetime."""
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _decoded(data: dict) -> dict:
    """A part's row from JSON to Python values: datetimes, booleans (SQLite's 0/1), the JSON
    lists (SQLite nests a JSON column as text)."""
    for key, value in data.items():
        if key in _INSTANTS:
            data[key] = _instant(value)
        elif key in _FLAGS:
            data[key] = bool(value)
        elif key in _LISTS and isinstance(value, str):
            data[key] = json.loads(value)
    return data


def _json_texts(texts) -> list:
    """JSON texts decoded in one ``json.loads`` (as a JSON array): a page's few hundred JSON
    columns (the parts' rows, the events' ``detail``), each decoded by the ORM's ``JSONField``
    converter, cost more in the converter and the decoder's per-call setup than in decoding;
    the statements read them as text (``Cast``) instead."""
    return json.loads(f"[{','.join(texts)}]")


def _parts_union(incident_ids):
    """The rows of every part of ``_PARTS`` of the given incidents, one ``UNION ALL``; each
    row's JSON object as text (``_json_texts``)."""
    branches = []
    for name, (model, parent, fields, _order) in _PARTS.items():
        if name in _BY_CONSULTATION:
            rows = model.objects.filter(consultation__incident_id__in=incident_ids)
        elif model is Incident:
            rows = model.objects.filter(pk__in=incident_ids)
        elif name == "receipts":
            rows = model.objects.filter(notice__incident_id__in=incident_ids,
                                        notice__warning__current_id=F("notice_id"))
        else:
            rows = model.objects.filter(incident_id__in=incident_ids)
        branches.append(rows.order_by().values_list(Value(name, output_field=CharField()), F(parent),
                                                    Cast(_Row(**fields), TextField())))
    first, *rest = branches
    return first.union(*rest, all=True)


def _embedded_rows(incident_ids):
    """The embedded deadlines of the given incidents as rows with their owner's code and the
    username of whoever met them (not objects: a page embeds hundreds), by due time."""
    return (_embedded_deadlines(Deadline.objects.filter(incident_id__in=incident_ids))
            .annotate(owner_key=Coalesce("owner_section__code", "owner_body__code"), met_by_name=F("met_by__username"))
            .order_by("due_at", "id").values_list(*DEADLINE_ROW))


DEADLINE_ROW = ("id", "incident_id", "kind", "due_at", "hard_due_at", "state", "met_at", "met_by_id", "waived_at",
                "escalated_at", "provisional", "owner_key", "met_by_name")


def _latest_events(incident_ids):
    """The latest ``EMBEDDED`` timeline events of each of the given incidents, with their
    actor's username, oldest first; ``detail`` as its JSON text (``_json_texts``)."""
    return (latest_ranked(incident_ids, EMBEDDED).order_by("at", "id")
            .annotate(detail_text=Cast("detail", TextField()))
            .values_list("incident_id", "id", "at", "actor_id", "actor__username", "verb", "detail_text", "before",
                         "after", "reason"))


def incident_parts(incidents) -> dict[int, dict[str, list]]:
    """The lists of each incident's representation, by incident id, in three queries whatever
    the number of incidents or lists (API.md v1.1): the deadlines still owed and the latest
    ``EMBEDDED`` others, by due time; the latest ``EMBEDDED`` timeline events, oldest first;
    and the totals of both (``timeline_count``, ``deadline_count``), the level's stable days
    (``stable_days``: ``organization.selectors.stable_days_target``) and every other list (sections, sources, the current warning notice's receipts, attachments,
    reports, statements, judgments, 批示意见, consultations with their participants, sections
    and decisions), each in its model's order. Rows are plain dicts and tuples, not models:
    a page embeds thousands of them."""
    incidents = list(incidents)
    ids = [incident.pk for incident in incidents]
    parts = {pk: {name: [] for name in (*_PARTS, "deadlines", "timeline")} for pk in ids}
    if not ids:
        return parts
    for row in prepared.by_ids(EMBEDDED, _embedded_rows, ids, server=True):
        parts[row[1]]["deadlines"].append(dict(zip(DEADLINE_ROW, row, strict=True)))
    events = prepared.by_ids(EMBEDDED, _latest_events, ids, server=True)
    for row, detail in zip(events, _json_texts(row[6] for row in events), strict=True):
        parts[row[0]]["timeline"].append((*row[:6], detail, *row[7:]))
    by_consultation = {}
    rows = prepared.by_ids(EMBEDDED, _parts_union, ids, server=True)
    for (name, parent, _text), data in zip(rows, _json_texts(row[2] for row in rows), strict=True):
        row = _decoded(data)
        if name in _BY_CONSULTATION:
            by_consultation.setdefault(parent, {}).setdefault(name, []).append(row)
        else:
            parts[parent][name].append(row)
    for lists in parts.values():
        lists.update(lists.pop("totals")[0])
        for name, (_m, _p, _f, order) in _PARTS.items():
            if name in lists and len(lists[name]) > 1:
                lists[name].sort(key=lambda row, order=order: tuple(row[key] for key in order))
        for consultation in lists["consultations"]:
            own = by_consultation.get(consultation["id"], {})
            for name in _BY_CONSULTATION:
                rows = own.get(name, [])
                rows.sort(key=lambda row, order=_PARTS[name][3]: tuple(row[key] for key in order))
                consultation[name] = rows
    return parts


# The case page (workplace/detail.py) shows the latest CASE_TIMELINE events and pages the rest.
CASE_TIMELINE = 20

# The case page's lists, counted on the incident's row; each list itself is read only when its
# section is opened (or re-rendered after an action in it): ``case_list``.
CASE_LISTS = {
    # the command group's judgments (R13: they set severity and the levels) and the sections' own
    "judgments": (Judgment, {"section__isnull": True}, ("judged_by",), ("-judged_at", "-id")),
    "section_judgments": (Judgment, {"section__isnull": False}, ("section", "judged_by"), ("-judged_at", "-id")),
    "instructions": (Instruction, {}, ("author",), ("written_at", "id")),
    "consultations": (Consultation, {}, (), ()),  # the list: case_consultations
    "unrecorded_consultations": (Consultation, {"recorded_at": None}, (), ()),
    "notices": (WarningNotice, {}, ("issued_by",), ("-issued_at", "-id")),
    "proposals": (ResponseProposal, {}, ("proposed_by", "decided_by"), ("-proposed_at", "-id")),
    "assessments": (StabilityAssessment, {}, ("assessed_by",), ("-date",)),
    "reports": (Report, {}, ("section", "owner_body", "author"), ("-submitted_at", "-id")),
    "statements": (Statement, {}, ("section", "drafted_by", "decided_by"), ("-drafted_at", "-id")),
    "summaries": (Report, {"kind": ReportKind.SUMMARY}, (), ()),
    "draft_statements": (Statement, {"state": StatementState.DRAFT}, (), ()),
    "supports": (SupportRequest, {}, ("requested_by", "answer_recorded_by"), ("requested_at", "id")),
    "open_supports": (SupportRequest, {"answered_at": None}, (), ()),
    "publicity": (PublicityAction, {}, ("started_by",), ("started_at", "id")),
    "sources": (Source, {}, (), ("id",)),
    "spread": (SpreadFigure, {}, ("recorded_by",), ("-recorded_at", "-id")),
    "attachments": (Attachment, {}, ("uploaded_by",), ("uploaded_at", "id")),
    "deadlines": (Deadline, {}, ("owner_section", "owner_body", "met_by"), ("-due_at", "-id")),
}


def _counted(model, **filters):
    return lambda: Coalesce(_count_of(model, **filters), 0)


# The case page's counts and the command group's name depend on nothing but the models:
# compiled once per process (building and compiling these two dozen subqueries was a fifth
# of the page).
CASE_ANNOTATIONS = {
    "timeline_count": Precompiled(Incident, _counted(TimelineEvent), IntegerField()),
    "deadline_count": Precompiled(Incident, _counted(Deadline), IntegerField()),
    "command_body_name": Precompiled(
        Incident, lambda: Subquery(Body.objects.filter(code=Body.COMMAND).values("name")[:1]), CharField()),
    **{f"{name}_count": Precompiled(Incident, _counted(model, **filters), IntegerField())
       for name, (model, filters, _r, _o) in CASE_LISTS.items()},
}


def _case_row(user):
    """The case page's incident row: the warning, the response and its pending proposal, the
    level policy's stable days and the highest levels ever reached, the count of every list
    of ``CASE_LISTS``."""
    return (
        visible(user)
        .select_related("reported_by", "warning__current__issued_by", "response__proposal__proposed_by",
                        "response__lift_proposed_by")
        .annotate(policy_stable_days=stable_days_target("response__level"), **CASE_ANNOTATIONS)
    )


def _case_sections(ids):
    return Section.objects.only("id", "code", "name").filter(assignments__incident_id=ids[0]).order_by("order", "code")


def _case_owed(ids):
    return (Deadline.objects.select_related("owner_section", "owner_body", "met_by")
            .filter(incident_id=ids[0], state__in=OWED).order_by("due_at", "id"))


def case_queryset(user):
    """Visible incidents with what the case page shows at once, in a fixed number of queries
    whatever the case's history: the warning, the response and its pending proposal, the
    level policy's stable days and the highest levels ever reached on the row; the deadlines
    still owed in one query; the count of every list of ``CASE_LISTS`` (the lists themselves:
    ``case_list``). The latest events and judgment: ``case_history``. The case page reads the
    same with its SQL compiled once: ``case_incident``."""
    deadlines = Deadline.objects.select_related("owner_section", "owner_body", "met_by")
    return _case_row(user).prefetch_related(
        Prefetch("sections", queryset=Section.objects.only("id", "code", "name")),
        Prefetch("deadlines", queryset=deadlines.filter(state__in=OWED).order_by("due_at", "id"),
                 to_attr="owed_deadlines"),
    )


def case_incident(user, pk) -> Incident:
    """``get_incident_for(user, pk, queryset=case_queryset(user))`` — the incident if ``user``
    may see it, else 404 — with its SQL compiled once per process for the user's identity
    (sentiment_ops.prepared: building and compiling the two dozen annotations and the
    visibility rule was a fifth of the page)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = prepared.instances_by_ids(("lifecycle.case_incident", identity_key(user)),
                                      lambda ids: _case_row(user).filter(pk=ids[0]), [pk])
    if len(found) != 1:
        raise Http404
    incident = found[0]
    # case_queryset's two prefetches, each compiled once: the sections as
    # ``incident.sections.all()`` answers them, the deadlines still owed
    sections = incident.sections.all()
    sections._result_cache = prepared.instances_by_ids("lifecycle.case_sections", _case_sections, [pk])
    sections._prefetch_done = True
    incident._prefetched_objects_cache = {"sections": sections}
    incident.owed_deadlines = prepared.instances_by_ids("lifecycle.case_owed", _case_owed, [pk])
    return incident


def _case_timeline(ids):
    return (TimelineEvent.objects.filter(incident_id=ids[0]).select_related("actor")
            .order_by("-at", "-id")[:CASE_TIMELINE])


def _case_judgment(ids):
    return (Judgment.objects.filter(incident_id=ids[0], section__isnull=True).select_related("judged_by")
            .order_by("-judged_at", "-id")[:1])


def case_history(incident):
    """The case page's ``incident`` (a ``case_queryset`` row) with its latest ``CASE_TIMELINE``
    events (``recent_timeline``, newest first) and its latest command judgment
    (``latest_judgments``), one query each: a LIMIT on one incident's rows, where a sliced
    prefetch is a window over them that costs several times as much to compile (each
    compiled once per process)."""
    incident.recent_timeline = prepared.instances_by_ids(("lifecycle.case_timeline", CASE_TIMELINE),
                                                         _case_timeline, [incident.pk])
    incident.latest_judgments = prepared.instances_by_ids("lifecycle.case_judgment", _case_judgment, [incident.pk])
    return incident


def case_list(incident, name):
    """One of the case page's lists of ``incident`` (``CASE_LISTS``), in one query, at most
    ``EMBEDDED`` rows (the page says how many there are: ``<name>_count``)."""
    model, filters, related, order = CASE_LISTS[name]
    rows = model.objects.filter(incident=incident, **filters).select_related(*related).order_by(*order)
    return list(rows[:EMBEDDED])


def case_consultations(incident) -> list[Consultation]:
    """The consultations of ``incident`` (R35) with their participants, sections and decisions
    (work orders with their deadlines): four queries, at most ``EMBEDDED`` consultations."""
    return list(Consultation.objects.filter(incident=incident).select_related("convened_by", "recorded_by")
                .prefetch_related(*_consultation_parts()).order_by("convened_at", "id")[:EMBEDDED])


def _consultation_parts():
    return (Prefetch("participants", queryset=User.objects.only("id", "username", "full_name")),
            Prefetch("sections", queryset=Section.objects.only("id", "code", "name")),
            Prefetch("decisions", queryset=ConsultationDecision.objects.select_related(
                "section", "deadline", "completed_by")))


def _case_receipts(ids):
    return (NoticeReceipt.objects.filter(notice__incident_id=ids[0])
            .select_related("section", "signed_by", "notice").order_by("notice__issued_at", "id"))


def case_receipts(incident):
    """Every receipt of every notice of ``incident`` with its section (who still has to sign),
    compiled once per process."""
    return prepared.instances_by_ids("lifecycle.case_receipts", _case_receipts, [incident.pk])


def timeline_of(incident) -> list[TimelineEvent]:
    """The embedded timeline of an ``incident_queryset`` row: its latest events, oldest first."""
    return incident.recent_timeline[::-1]


def timeline_page_queryset(incident):
    """The whole timeline of one incident, oldest first (GET …/incidents/{id}/timeline/)."""
    return with_names(TimelineEvent.objects.filter(incident=incident)).order_by("at", "id")


class IncidentFilter(django_filters.FilterSet):
    """The incident list's filters and search: ``GET /api/v1/incidents/`` and the list page."""

    state = django_filters.ChoiceFilter(choices=State.choices)
    severity = django_filters.CharFilter()
    warning_level = django_filters.NumberFilter(method="filter_warning_level")
    response_level = django_filters.NumberFilter(field_name="response__level")
    section = django_filters.CharFilter(method="filter_section")
    q = django_filters.CharFilter(method="filter_q", validators=[validate_search])
    # The queues of the home pages: not yet judged (待研判), a proposal waiting for a body.
    awaiting = django_filters.ChoiceFilter(choices=[("judgment", "judgment"), ("approval", "approval")],
                                           method="filter_awaiting")
    mine = django_filters.BooleanFilter(method="filter_mine")  # logged by the caller
    # The deadline watch's counts: incidents owing a deadline already past due, or due soon.
    owing = django_filters.ChoiceFilter(choices=[("overdue", "overdue"), ("due_soon", "due_soon")],
                                        method="filter_owing")
    # A date range (local dates, both inclusive) on the logging date, or on the discovery date
    # with date=discovered; ``from`` and ``to`` are added below (Python keywords).
    date = django_filters.ChoiceFilter(choices=[("reported", "reported"), ("discovered", "discovered")],
                                       method="filter_nothing")

    class Meta:
        model = Incident
        fields = ["state", "severity", "classified", "channel"]

    def get_form_class(self):
        """The form class, made once: django-filter makes it, and a form field of each filter,
        for every filterset (a third of the filters' cost), and no filter here depends on the
        request or the data."""
        made = type(self).__dict__.get("_form_class")
        if made is None:
            made = super().get_form_class()
            type(self)._form_class = made
        return made

    def filter_warning_level(self, qs, name, value):
        return qs.filter(warning__level=value, warning__state=WarningState.ACTIVE)

    def filter_section(self, qs, name, value):
        # A join, not EXISTS: one row per incident ((incident, section) is unique), and
        # PostgreSQL may then hash the state's few incidents and stream the section's
        # assignments from their index, where a semi-join hashes every assignment of the
        # section (?state=responding&section=petition's capped count 7.9 → ~6 ms at 100,000).
        return qs.filter(assignments__section__code=value)

    def filter_q(self, qs, name, value):
        return search(qs, self.request.user, value)

    def filter_awaiting(self, qs, name, value):
        if value == "judgment":
            return qs.filter(judged_at__isnull=True).exclude(state=State.CLOSED)
        return qs.exclude(state=State.CLOSED).filter(
            Q(response__proposal__decision=ResponseProposal.Decision.PENDING)
            | Q(response__state=ResponseState.LIFT_PROPOSED))

    def filter_owing(self, qs, name, value):
        now = timezone.now()
        due = {"due_at__lt": now} if value == "overdue" else {"due_at__gte": now, "due_at__lt": now + DUE_SOON}
        return qs.filter(Exists(Deadline.objects.pending().filter(incident=OuterRef("pk"), **due)))

    def filter_mine(self, qs, name, value):
        return qs.filter(reported_by=self.request.user) if value else qs

    def filter_nothing(self, qs, name, value):
        return qs  # read by filter_range

    def filter_range(self, qs, name, value):
        """Start of the local day ``from`` (inclusive) to the start of the day after ``to``:
        a range on the indexed timestamp, not a date cast per row."""
        field = "discovered_at" if self.data.get("date") == "discovered" else "reported_at"
        tz = timezone.get_current_timezone()
        if name == "from":
            return qs.filter(**{f"{field}__gte": dt.datetime.combine(value, dt.time.min, tzinfo=tz)})
        return qs.filter(**{f"{field}__lt": dt.datetime.combine(value + dt.timedelta(days=1), dt.time.min, tzinfo=tz)})


for _name in ("from", "to"):
    IncidentFilter.base_filters[_name] = django_filters.DateFilter(field_name=_name, method="filter_range")
