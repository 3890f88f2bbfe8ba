"""Reads that span the case's apps, shared by the JSON API and the pages."""

import datetime as dt

import django_filters
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.policy import DUE_SOON
from early_warnings.models import NoticeReceipt, WarningState
from incidents.models import Assignment, Attachment, Incident, State, TimelineEvent
from incidents.selectors import search, validate_search, visible
from organization.models import Section
from responses.models import ResponseProposal, ResponseState

# API.md v1.1 "Paged sub-resources": the representation embeds the latest EMBEDDED timeline
# events, and the deadlines still owed plus the latest EMBEDDED others; the rest is paged.
EMBEDDED = 100
OWED = [DeadlineState.OPEN, DeadlineState.MISSED]


def _count_of(model, **filters):
    """COUNT of the outer incident's rows of ``model`` as a scalar subquery (index-only)."""
    rows = model.objects.filter(incident=OuterRef("pk"), **filters).order_by().values("incident")
    return Subquery(rows.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField())


def incident_queryset(user):
    """Visible incidents with everything the incident's representation (API.md) and the case
    page need, in a fixed number of queries and a bounded number of rows (the timeline and
    the deadlines capped, with their totals: ``timeline_of``, ``deadlines_of``)."""
    deadlines = Deadline.objects.select_related("owner_section", "owner_body", "met_by")
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
            Prefetch("deadlines", queryset=deadlines.filter(state__in=OWED), to_attr="owed_deadlines"),
            Prefetch("deadlines", queryset=deadlines.exclude(state__in=OWED).order_by("-due_at", "-id")[:EMBEDDED],
                     to_attr="recent_deadlines"),
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor").order_by("-at", "-id")[:EMBEDDED],
                     to_attr="recent_timeline"),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        )
    )


def timeline_of(incident) -> list[TimelineEvent]:
    """The embedded timeline of an ``incident_queryset`` row: its latest events, oldest first."""
    return incident.recent_timeline[::-1]


def deadlines_of(incident) -> list[Deadline]:
    """The embedded deadlines of an ``incident_queryset`` row: those still owed and the latest
    others, by due time."""
    return sorted([*incident.owed_deadlines, *incident.recent_deadlines], key=lambda d: (d.due_at, d.pk))


def timeline_page_queryset(incident):
    """The whole timeline of one incident, oldest first (GET …/incidents/{id}/timeline/)."""
    return TimelineEvent.objects.filter(incident=incident).select_related("actor").order_by("at", "id")


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
