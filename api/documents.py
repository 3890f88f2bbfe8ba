"""Official documents, ledgers and the sealed archive (API.md "v1.1 additions"): files served
to those who may read the incident's content; the documents app builds them."""

from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from deadlines import accountability
from documents import ledgers, selectors, services
from documents.models import DocumentKind
from incidents.models import State
from incidents.services import classified_access_log
from sentiment_ops.exceptions import Conflict, Forbidden

ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


def _attachment(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


class DocumentOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    title = serializers.CharField()
    formats = serializers.ListField(child=serializers.ChoiceField(choices=["docx", "pdf"]))
    url = serializers.URLField()


@extend_schema(parameters=[ID], responses=DocumentOut(many=True), description=_("事件可生成的公文及其下载地址"))
@api_view(["GET"])
def document_list(request, id):
    incident = selectors.readable_incident_for(request.user, id)
    return Response([
        {"kind": kind, "title": str(label), "formats": ["docx", "pdf"],
         "url": request.build_absolute_uri(reverse("api-document", args=[incident.pk, kind, "pdf"]))}
        for kind, label in selectors.available(incident)
    ])


@extend_schema(parameters=[ID, OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=DocumentKind.values),
                           OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["docx", "pdf"]),
                           OpenApiParameter("report", int, description=_("指定报告（默认最新一份）"))],
               responses={(200, "application/octet-stream"): bytes}, description=_("下载公文（Word 或 PDF）"))
@api_view(["GET"])
def document_download(request, id, kind, fmt):
    incident = selectors.readable_incident_for(request.user, id)
    classified_access_log(incident=incident, user=request.user, via="document")
    name, content_type, data = services.document_file(
        incident=incident, kind=kind, fmt=fmt, actor=request.user, report_id=request.query_params.get("report"))
    return _attachment(data, name, content_type)


def _ledger_params(request):
    params = ledgers.LedgerFilter(request.query_params)
    if not params.is_valid():
        raise ValidationError(params.errors)
    return params


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_PARAMS = [OpenApiParameter(n, str) for n in ("from", "to", "state")]


@extend_schema(parameters=[*LEDGER_PARAMS, OpenApiParameter("section", str)],
               responses={(200, XLSX): bytes}, description=_("舆情事件台账（Excel）"))
@api_view(["GET"])
def ledger_incidents(request):
    file = ledgers.incidents_xlsx(request.user, _ledger_params(request))
    return FileResponse(file, as_attachment=True, filename=ledgers.filename("incidents"), content_type=XLSX)


@extend_schema(parameters=[*LEDGER_PARAMS, OpenApiParameter("owner", str)],
               responses={(200, XLSX): bytes}, description=_("报送期限台账与问责统计（Excel）"))
@api_view(["GET"])
def ledger_deadlines(request):
    params = _ledger_params(request)
    try:  # the figures sheet holds what the caller may see of the accountability figures
        figures = accountability.report_for(request.user, start=params.cleaned_data.get("from"),
                                            end=params.cleaned_data.get("to"),
                                            owner=params.cleaned_data.get("owner") or None)
    except Forbidden:
        figures = None
    file = ledgers.deadlines_xlsx(request.user, params, figures)
    return FileResponse(file, as_attachment=True, filename=ledgers.filename("deadlines"), content_type=XLSX)


@extend_schema(parameters=[ID], responses={(200, "application/zip"): bytes},
               description=_("已办结事件的归档包（archive.zip）"))
@api_view(["GET"])
def archive_download(request, id):
    incident = selectors.readable_incident_for(request.user, id)
    if incident.state != State.CLOSED:
        raise Conflict(_("事件尚未办结，不能下载归档。"))
    classified_access_log(incident=incident, user=request.user, via="archive")
    sealed = services.archive_ensure(incident_id=incident.pk)
    if sealed is None:
        raise Http404
    services.archive_download_record(incident=incident, actor=request.user)
    return FileResponse(sealed.file.open("rb"), as_attachment=True, content_type="application/zip",
                        filename=f"incident-{incident.pk}-archive.zip")
