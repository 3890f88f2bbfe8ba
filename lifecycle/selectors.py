"""Reads that span the case's apps, shared by the JSON API and the pages."""

import django_filters
from django.db.models import Exists, OuterRef, Prefetch

from deadlines.models import Deadline
from early_warnings.models import NoticeReceipt, WarningState
from incidents.models import Assignment, Attachment, Incident, State, TimelineEvent
from incidents.selectors import search, validate_search, visible
from organization.models import Section


def incident_queryset(user):
    """Visible incidents with everything the incident's representation (API.md) and the case
    page need, in a fixed number of queries."""
    return (
        visible(user)
        .select_related("reported_by", "warning__current__issued_by", "response__proposal")
        .prefetch_related(
            Prefetch("sections", queryset=Section.objects.only("id", "code", "name")),
            "sources",
            Prefetch("warning__current__receipts",
                     queryset=NoticeReceipt.objects.select_related("section", "signed_by")),
            Prefetch("deadlines", queryset=Deadline.objects.select_related("owner_section", "owner_body", "met_by")),
            Prefetch("timeline", queryset=TimelineEvent.objects.select_related("actor")),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        )
    )


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
