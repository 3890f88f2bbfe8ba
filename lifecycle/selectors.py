"""Reads that span the case's apps, shared by the JSON API and the pages."""

import django_filters
from django.db.models import (
    Case,
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

from deadlines.models import Deadline, DeadlineState
from early_warnings.models import NoticeReceipt, WarningState
from incidents.models import Assignment, Attachment, Incident, State, TimelineEvent
from incidents.selectors import search, validate_search, visible
from organization.models import Section

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
        )
    )


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

    class Meta:
        model = Incident
        fields = ["state", "severity", "classified", "channel"]

    def filter_warning_level(self, qs, name, value):
        return qs.filter(warning__level=value, warning__state=WarningState.ACTIVE)

    def filter_section(self, qs, name, value):
        return qs.filter(Exists(Assignment.objects.filter(incident=OuterRef("pk"), section__code=value)))

    def filter_q(self, qs, name, value):
        return search(qs, self.request.user, value)
