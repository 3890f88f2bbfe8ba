"""The JSON API of API.md: incidents and every action on them (from lifecycle/actions.py's
registry), sections, deadlines, attachments. Thin: the one access function, the action's
``run``, the representation."""

import django_filters
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as drf_action
from rest_framework.decorators import api_view
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from deadlines.models import Deadline
from deadlines.selectors import visible_deadlines
from incidents import permissions as perms
from incidents import services as records
from incidents.models import Attachment, Incident
from incidents.selectors import count_visible, get_incident_for
from lifecycle import services as lifecycle
from lifecycle.actions import ACTIONS, ATTACH, run
from lifecycle.payloads import AttachmentIn, IncidentCreateSerializer
from lifecycle.selectors import (
    IncidentFilter,
    incident_for,
    incident_page,
    incident_parts,
    incident_queryset,
    timeline_page_queryset,
)
from organization.models import Section

from . import serializers as s
from .idempotency import PARAMETER as IDEMPOTENCY_KEY
from .idempotency import idempotent
from .pagination import Counted, IncidentPagination, Pagination
from .parsers import ObjectJSONParser


def _represent(request, pk, *, created=False):
    """The incident as the caller now sees it; 204 when the action took it out of their sight
    (e.g. they unassigned their own section)."""
    fresh = incident_for(request.user, pk)
    if fresh is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(_represented(request, [fresh])[0], status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _represented(request, incidents) -> list[dict]:
    """The representation of ``incidents``, their lists read for all of them at once."""
    context = {"request": request, "parts": incident_parts(incidents)}
    return s.IncidentSerializer(incidents, many=True, context=context).data


def _action_view(name, payload):
    @idempotent
    def view(self, request, pk=None):
        incident = get_incident_for(request.user, pk)
        run(ACTIONS[name], incident, request.user, request.data)
        return _represent(request, incident.pk)
    view.__name__ = name.replace("-", "_")
    # extend_schema outside @action: @action replaces the function's kwargs, schema included.
    return extend_schema(request=payload, responses=s.IncidentSerializer, parameters=[IDEMPOTENCY_KEY],
                         operation_id=f"incidents_{name.replace('-', '_')}",
                         summary=name)(drf_action(detail=True, methods=["post"], url_path=name)(view))


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Incidents visible to the caller; actions as ``POST /incidents/{id}/{action}/``."""

    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter
    pagination_class = IncidentPagination
    parser_classes = [ObjectJSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return incident_queryset(self.request.user)

    def filter_queryset(self, queryset):
        """The list's filters; none asked for, the queryset as it is (the filter set's form, built
        for each request, cost more than the page query's compilation)."""
        if not any(name in self.request.query_params for name in self.filterset_class.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self):
        """The incident if the caller may see it (else 404), as its representation reads it."""
        incident = incident_for(self.request.user, self.kwargs["pk"])
        if incident is None:
            raise Http404
        return incident

    def list(self, request, *args, **kwargs):
        """The page from the visible incidents; the exact ``count`` from the visibility rule's
        branches, each counted from its index (``count_visible``)."""
        filtered = self.filter_queryset(Incident.objects.all())

        page = self.paginate_queryset(Counted(lambda start, stop: incident_page(request.user, filtered, start, stop),
                                              lambda: count_visible(request.user, filtered)))
        return self.get_paginated_response(_represented(request, page))

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        records.classified_access_log(incident=incident, user=request.user, via="api")
        return Response(_represented(request, [incident])[0])

    @extend_schema(request=IncidentCreateSerializer, responses={201: s.IncidentSerializer},
                   parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request, *args, **kwargs):
        data = IncidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = lifecycle.incident_create(actor=request.user, **data.validated_data)
        return _represent(request, incident.pk, created=True)

    @extend_schema(request=AttachmentIn, responses={201: None}, parameters=[IDEMPOTENCY_KEY])
    @drf_action(detail=True, methods=["post"], url_path="attachments",
                parser_classes=[MultiPartParser, FormParser])
    @idempotent
    def attachments(self, request, pk=None):
        incident = get_incident_for(request.user, pk)
        att = run(ATTACH, incident, request.user, request.data)
        return Response({"id": att.pk, "name": att.name, "kind": att.kind, "size": att.size, "sha256": att.sha256,
                         "url": f"/api/v1/attachments/{att.pk}/download/"}, status=status.HTTP_201_CREATED)


    @extend_schema(responses={200: s.TimelineEventSerializer(many=True)})
    @drf_action(detail=True, methods=["get"], url_path="timeline", pagination_class=Pagination)
    def timeline(self, request, pk=None):
        """The whole timeline, paged, oldest first (API.md v1.1 "Paged sub-resources")."""
        incident = get_incident_for(request.user, pk)
        records.classified_access_log(incident=incident, user=request.user, via="timeline")
        page = self.paginate_queryset(timeline_page_queryset(incident))
        visible = perms.can_see_content(request.user, incident)
        return self.get_paginated_response(s.timeline_data(page, visible))


for _name, _act in ACTIONS.items():
    setattr(IncidentViewSet, _name.replace("-", "_"), _action_view(_name, _act.payload))


class SectionListView(ListAPIView):
    serializer_class = s.SectionSerializer
    pagination_class = None
    queryset = Section.objects.order_by("order", "code")


class DeadlineFilter(django_filters.FilterSet):
    state = django_filters.CharFilter()
    kind = django_filters.CharFilter()
    owner = django_filters.CharFilter(method="filter_owner")
    overdue = django_filters.CharFilter(method="filter_overdue", help_text="1/true: open or missed past due")
    incident = django_filters.NumberFilter()

    class Meta:
        model = Deadline
        fields = ["state", "kind", "incident"]

    def filter_owner(self, qs, name, value):
        return qs.owned_by(value)

    def filter_overdue(self, qs, name, value):
        if value.lower() in ("1", "true", "yes"):
            return qs.pending().filter(due_at__lt=timezone.now())
        return qs


class DeadlineListView(ListAPIView):
    """Deadlines of the incidents visible to the caller."""

    serializer_class = s.DeadlineSerializer
    filterset_class = DeadlineFilter

    def get_queryset(self):
        return visible_deadlines(self.request.user)


@extend_schema(responses={(200, "application/octet-stream"): bytes},
               parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)], description=_("下载附件（按权限）"))
@api_view(["GET"])
def attachment_download(request, id):
    """Attachments are served only through this permission-checked view."""
    attachment = Attachment.objects.filter(pk=id).first()
    if attachment is None:
        raise Http404
    incident = get_incident_for(request.user, attachment.incident_id)
    records.classified_access_log(incident=incident, user=request.user, via="attachment")
    if not perms.can_see_content(request.user, incident):
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)
