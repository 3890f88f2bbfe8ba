"""Reads for documents, ledgers and the archive: what a kind prints, who may have it."""

from django.http import Http404

from early_warnings.models import WarningNotice
from incidents import permissions as perms
from incidents.models import Judgment
from incidents.selectors import get_incident_for
from responses.models import Report

from .models import DocumentKind, DocumentPolicy, DocumentTemplate

REPORT_KINDS = [k for k in DocumentKind.values if k != DocumentKind.WARNING]


def readable_incident_for(user, pk):
    """The incident if ``user`` may read its content (R54), else 404: documents are content."""
    incident = get_incident_for(user, pk)
    if not perms.can_see_content(user, incident):
        raise Http404
    return incident


def sources(incident, kind: str) -> list:
    """Everything of ``kind`` the record holds, oldest first: reports, warning notices, or for
    研判意见 the judgment reports and, without any, the judgments themselves."""
    if kind == DocumentKind.WARNING:
        return list(WarningNotice.objects.filter(incident=incident).select_related("issued_by")
                    .prefetch_related("receipts__section").order_by("issued_at", "id"))
    found = list(Report.objects.filter(incident=incident, kind=kind)
                 .select_related("section", "owner_body", "author").order_by("submitted_at", "id"))
    if kind == DocumentKind.JUDGMENT and not found:
        found = list(Judgment.objects.filter(incident=incident).select_related("judged_by"))
    return found


def source(incident, kind: str, report_id=None):
    """The one document ``kind`` prints: the latest (the current warning notice), or the report
    ``report_id``; 404 when there is nothing to print."""
    if kind not in DocumentKind.values:
        raise Http404
    found = sources(incident, kind)
    if report_id not in (None, ""):
        if kind == DocumentKind.WARNING:
            raise Http404
        found = [s for s in found if isinstance(s, Report) and str(s.pk) == str(report_id)]
    elif kind == DocumentKind.WARNING and found:
        current = getattr(getattr(incident, "warning", None), "current_id", None)
        found = [n for n in found if n.pk == current] or found
    if not found:
        raise Http404
    return found[-1]


def source_key(item) -> str:
    return f"{item._meta.model_name}:{item.pk}"


def available(incident) -> list[tuple[str, str]]:
    """(kind, label) of every kind with something to print, in the order of DocumentKind."""
    kinds = set(Report.objects.filter(incident=incident, kind__in=REPORT_KINDS)
                .values_list("kind", flat=True).distinct())
    if WarningNotice.objects.filter(incident=incident).exists():
        kinds.add(DocumentKind.WARNING)
    if Judgment.objects.filter(incident=incident).exists():
        kinds.add(DocumentKind.JUDGMENT)
    return [(k, label) for k, label in DocumentKind.choices if k in kinds]


def policy() -> DocumentPolicy:
    return DocumentPolicy.objects.get_or_create(pk=1)[0]


def template_for(kind: str):
    return DocumentTemplate.objects.filter(kind=kind).first()

