"""Reads that span the case's apps, shared by the JSON API and the pages."""

import datetime as dt

import django_filters
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.policy import DUE_SOON
from early_warnings.models import NoticeReceipt, WarningNotice, WarningState
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
from incidents.selectors import search, validate_search, visible
from organization.models import Body, Section, User
from organization.selectors import stable_days_target
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
from sentiment_ops.precompiled import Precompiled

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


def incident_queryset(user, *, names_only=False):
    """Visible incidents with everything the incident's representation (API.md) and the case
    page need, in a fixed number of queries and a bounded number of rows (the timeline and
    the deadlines capped, with their totals: ``timeline_of``, ``deadlines_of``).
    ``names_only`` (the JSON API): the embedded rows carry the names of their users and units
    (``actor_name``; ``owner_key``, ``met_by_name``) instead of the objects — a list embeds a
    thousand rows, and building a user per row was a quarter of its cost."""
    if names_only:
        deadlines = Deadline.objects.annotate(owner_key=Coalesce("owner_section__code", "owner_body__code"),
                                              met_by_name=F("met_by__username"))
        events = with_names(TimelineEvent.objects.all())
    else:
        deadlines = Deadline.objects.select_related("owner_section", "owner_body", "met_by")
        events = TimelineEvent.objects.select_related("actor")
    return (
        visible(user)
        .select_related("reported_by", "warning__current__issued_by", "response__proposal")
        .annotate(timeline_count=Coalesce(_count_of(TimelineEvent), 0),
                  deadline_count=Coalesce(_count_of(Deadline), 0))
        .prefetch_related(
            Prefetch("sections", queryset=Section.objects.only("id", "code", "name")),
            "sources",
            Prefetch("warning__current__receipts",
                     queryset=NoticeReceipt.objects.select_related("section", "signed_by")),
            Prefetch("deadlines", queryset=_embedded_deadlines(deadlines), to_attr="embedded_deadlines"),
            Prefetch("timeline", queryset=events.order_by("-at", "-id")[:EMBEDDED], to_attr="recent_timeline"),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
            # API.md v1.1 "More of the incident", the judgments (R13) and the 批示意见: one query each
            Prefetch("reports", queryset=Report.objects.select_related("section", "author").order_by("submitted_at", "id")),
            Prefetch("statements", queryset=Statement.objects.select_related("section", "drafted_by", "decided_by")
                     .order_by("drafted_at", "id")),
            Prefetch("judgments", queryset=Judgment.objects.select_related("section", "judged_by")
                     .order_by("judged_at", "id")),
            Prefetch("instructions", queryset=Instruction.objects.select_related("author")),
            Prefetch("consultations", queryset=Consultation.objects.select_related("convened_by", "recorded_by")
                     .prefetch_related(*_consultation_parts())),
        )
    )


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


def case_queryset(user):
    """Visible incidents with what the case page shows at once, in a fixed number of queries
    whatever the case's history: the warning, the response and its pending proposal, the
    level policy's stable days and the highest levels ever reached on the row; the deadlines
    still owed in one query; the count of every list of ``CASE_LISTS`` (the lists themselves:
    ``case_list``). The latest events and judgment: ``case_history``."""
    deadlines = Deadline.objects.select_related("owner_section", "owner_body", "met_by")
    return (
        visible(user)
        .select_related("reported_by", "warning__current__issued_by", "response__proposal__proposed_by",
                        "response__lift_proposed_by")
        .annotate(policy_stable_days=stable_days_target("response__level"), **CASE_ANNOTATIONS)
        .prefetch_related(
            Prefetch("sections", queryset=Section.objects.only("id", "code", "name")),
            Prefetch("deadlines", queryset=deadlines.filter(state__in=OWED).order_by("due_at", "id"),
                     to_attr="owed_deadlines"),
        )
    )


def case_history(incident):
    """The case page's ``incident`` (a ``case_queryset`` row) with its latest ``CASE_TIMELINE``
    events (``recent_timeline``, newest first) and its latest command judgment
    (``latest_judgments``), one query each: a LIMIT on one incident's rows, where a sliced
    prefetch is a window over them that costs several times as much to compile."""
    incident.recent_timeline = list(TimelineEvent.objects.filter(incident=incident).select_related("actor")
                                    .order_by("-at", "-id")[:CASE_TIMELINE])
    incident.latest_judgments = list(Judgment.objects.filter(incident=incident, section__isnull=True)
                                     .select_related("judged_by").order_by("-judged_at", "-id")[:1])
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


def case_receipts(incident):
    """Every receipt of every notice of ``incident`` with its section (who still has to sign)."""
    return list(NoticeReceipt.objects.filter(notice__incident=incident)
                .select_related("section", "signed_by", "notice").order_by("notice__issued_at", "id"))


def timeline_of(incident) -> list[TimelineEvent]:
    """The embedded timeline of an ``incident_queryset`` row: its latest events, oldest first."""
    return incident.recent_timeline[::-1]


def deadlines_of(incident) -> list[Deadline]:
    """The embedded deadlines of an ``incident_queryset`` row: those still owed and the latest
    others, by due time."""
    return sorted(incident.embedded_deadlines, key=lambda d: (d.due_at, d.pk))


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

    def filter_warning_level(self, qs, name, value):
        return qs.filter(warning__level=value, warning__state=WarningState.ACTIVE)

    def filter_section(self, qs, name, value):
        return qs.filter(Exists(Assignment.objects.filter(incident=OuterRef("pk"), section__code=value)))

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
