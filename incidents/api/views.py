import django_filters
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as drf_action
from rest_framework.decorators import api_view
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from deadlines.models import Deadline
from early_warnings.models import NoticeReceipt
from incidents import permissions as perms
from incidents import services
from incidents.actions import ACTIONS, ATTACH, check_may_attempt, run
from incidents.models import Assignment, Attachment, Incident, State, TimelineEvent
from organization.models import Section

from . import serializers as s


def search_filter(qs, user, q: str):
    """Every whitespace-separated term must appear (Chinese has no word breaks, so terms
    are matched as substrings) in the title, summary, keywords, background, concerns or a
    source. A classified incident matches on content only for those who may read it."""
    for term in q.split():
        match = (Q(title__icontains=term) | Q(summary__icontains=term) | Q(keywords__icontains=term)
                 | Q(background__icontains=term) | Q(netizen_concerns__icontains=term)
                 | Q(key_contradiction__icontains=term) | Q(related_groups__icontains=term)
                 | Q(Exists(Incident.sources.rel.related_model.objects.filter(
                     incident=OuterRef("pk")).filter(Q(url__icontains=term) | Q(title__icontains=term)))))
        qs = qs.filter(match & content_readable(user))
    return qs


def content_readable(user) -> Q:
    if user.is_superuser or perms.is_command(user) or perms.is_leadership(user):
        return Q()
    mine = Assignment.objects.filter(incident=OuterRef("pk"), section__code__in=perms.user_section_codes(user))
    return Q(classified=False) | Q(Exists(mine)) | Q(reported_by=user)


class IncidentFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=State.choices)
    severity = django_filters.CharFilter()
    warning_level = django_filters.NumberFilter(method="filter_warning_level")
    response_level = django_filters.NumberFilter(field_name="response__level")
    section = django_filters.CharFilter(method="filter_section")
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = Incident
        fields = ["state", "severity", "classified", "channel"]

    def filter_warning_level(self, qs, name, value):
        return qs.filter(warning__level=value, warning__state="active")

    def filter_section(self, qs, name, value):
        return qs.filter(Exists(Assignment.objects.filter(incident=OuterRef("pk"), section__code=value)))

    def filter_q(self, qs, name, value):
        return search_filter(qs, self.request.user, value)


def incident_queryset(user):
    """Visible incidents with everything the representation needs in a fixed number of queries."""
    return (
        Incident.objects.visible_to(user)
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


def _action_view(name, payload):
    def view(self, request, pk=None):
        incident = perms.get_incident_for(request.user, pk)
        act = ACTIONS[name]

        check_may_attempt(act, request.user)
        data = payload(data=request.data)
        data.is_valid(raise_exception=True)
        run(act, incident, request.user, dict(data.validated_data))
        fresh = incident_queryset(request.user).filter(pk=incident.pk).first()
        if fresh is None:  # e.g. the actor's section was unassigned: no longer visible
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.IncidentSerializer(fresh, context={"request": request}).data)

    view.__name__ = name.replace("-", "_")
    # extend_schema outside @action: @action replaces the function's kwargs, schema included.
    return extend_schema(request=payload, responses=s.IncidentSerializer,
                         operation_id=f"incidents_{name.replace('-', '_')}",
                         summary=name)(drf_action(detail=True, methods=["post"], url_path=name)(view))


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Incidents visible to the caller; actions as ``POST /incidents/{id}/{action}/``."""

    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self):
        return incident_queryset(self.request.user)

    def get_object(self):
        return perms.get_incident_for(self.request.user, self.kwargs["pk"], queryset=self.get_queryset())

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        services.classified_access_log(incident=incident, user=request.user, via="api")
        return Response(self.get_serializer(incident).data)

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentSerializer})
    def create(self, request, *args, **kwargs):
        data = s.IncidentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_create(actor=request.user, **data.validated_data)
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AttachmentIn, responses={201: None})
    @drf_action(detail=True, methods=["post"], url_path="attachments",
                parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request, pk=None):
        incident = perms.get_incident_for(request.user, pk)
        check_may_attempt(ATTACH, request.user)
        data = s.AttachmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        att = run(ATTACH, incident, request.user, dict(data.validated_data))
        return Response({"id": att.pk, "name": att.name, "kind": att.kind, "size": att.size, "sha256": att.sha256,
                         "url": f"/api/v1/attachments/{att.pk}/download/"}, status=status.HTTP_201_CREATED)


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
        from django.utils import timezone

        if value.lower() in ("1", "true", "yes"):
            return qs.pending().filter(due_at__lt=timezone.now())
        return qs


class DeadlineListView(ListAPIView):
    """Deadlines of the incidents visible to the caller."""

    serializer_class = s.DeadlineSerializer
    filterset_class = DeadlineFilter

    def get_queryset(self):
        return (Deadline.objects.filter(incident__in=Incident.objects.visible_to(self.request.user).values("pk"))
                .select_related("owner_section", "owner_body", "met_by").order_by("due_at", "id"))


@extend_schema(responses={(200, "application/octet-stream"): bytes},
               parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)], description=_("下载附件（按权限）"))
@api_view(["GET"])
def attachment_download(request, id):
    """Attachments are served only through this permission-checked view."""
    attachment = Attachment.objects.filter(pk=id).first()
    if attachment is None:
        raise Http404
    incident = perms.get_incident_for(request.user, attachment.incident_id)
    services.classified_access_log(incident=incident, user=request.user, via="attachment")
    if not perms.can_see_content(request.user, incident):
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)
