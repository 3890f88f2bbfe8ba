"""Writers of the documents app: a document's number when first issued, the unit's templates,
the sealed archive and its download (R53). Each is one transaction in the house order."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from docxtpl import DocxTemplate

from incidents.models import State
from incidents.services import lock
from incidents.timeline import record
from sentiment_ops.exceptions import Conflict

from . import archive, convert, render, selectors
from .models import (
    BULLETIN_KINDS,
    DocumentKind,
    DocumentPolicy,
    DocumentTemplate,
    IncidentArchive,
    IssuedDocument,
)


@transaction.atomic
def document_issue(*, incident, kind: str, item, actor) -> IssuedDocument:
    """The document's number (发文字号, or 期号 for 快报/专报): given once, when the document is
    first issued, and stored; a later download gets the same number."""
    key = selectors.source_key(item)
    issued = IssuedDocument.objects.filter(kind=kind, source_key=key).first()
    if issued:
        return issued
    incident = lock(incident)
    DocumentPolicy.objects.select_for_update().get_or_create(pk=1)  # numbers are handed out one at a time
    issued = IssuedDocument.objects.filter(kind=kind, source_key=key).first()
    if issued:
        return issued
    year = timezone.localdate().year
    series = kind if kind in BULLETIN_KINDS else "number"
    top = IssuedDocument.objects.filter(series=series, year=year).aggregate(top=Max("number"))["top"] or 0
    issued = IssuedDocument.objects.create(incident=incident, kind=kind, source_key=key, year=year,
                                           series=series, number=top + 1, issued_by=actor)
    record(incident, actor, "document_issued", before=incident.state, kind=kind, source=key,
           year=year, number=issued.number)
    return issued


def template_validate(upload) -> None:
    """A replacement template must be a Word document docxtpl can read."""
    try:
        DocxTemplate(upload).get_undeclared_template_variables()
    except Exception as exc:  # any parse failure means "not a usable template"
        raise ValidationError(_("模板不是可用的 Word（.docx）文档：%(error)s") % {"error": exc}) from exc
    finally:
        upload.seek(0)


@transaction.atomic
def template_save(*, kind: str, upload, actor) -> DocumentTemplate:
    template_validate(upload)
    template, _created = DocumentTemplate.objects.get_or_create(kind=kind, defaults={"uploaded_by": actor})
    template.file.save(f"{kind}.docx", upload, save=False)
    template.uploaded_by = actor
    template.save()
    return template


def archive_ensure(*, incident_id: int) -> IncidentArchive | None:
    """Build the sealed archive of a closed case unless one exists for this closing (the
    Celery task, and a download that comes first). The archive row's lock keeps two callers
    from building it twice: the second waits, then finds it built."""
    IncidentArchive.objects.get_or_create(incident_id=incident_id)
    with transaction.atomic():
        sealed = IncidentArchive.objects.select_for_update().select_related("incident").get(incident_id=incident_id)
        incident = sealed.incident
        if incident.state != State.CLOSED:
            return None
        if sealed.fresh_for(incident):
            return sealed
        issued = [(kind, item, document_issue(incident=incident, kind=kind, item=item, actor=None))
                  for kind in DocumentKind.values for item in selectors.sources(incident, kind)]
        data, manifest = archive.build(incident, issued)
        if sealed.file:
            sealed.file.delete(save=False)
        sealed.file.save(f"incident-{incident.pk}-{incident.closed_at:%Y%m%d%H%M%S}.zip", ContentFile(data), save=False)
        sealed.sealed_for = incident.closed_at
        sealed.built_at = timezone.now()
        sealed.sha256 = archive.sha256(data)
        sealed.timeline_head = manifest["timeline_head"]
        sealed.save()
        return sealed


@transaction.atomic
def archive_download_record(*, incident, actor) -> None:
    """Downloading the archive is itself a timeline event."""
    incident = lock(incident)
    if incident.state != State.CLOSED:
        raise Conflict(_("事件尚未办结，不能下载归档。"))
    sealed = IncidentArchive.objects.get(incident=incident)
    record(incident, actor, "archive_downloaded", before=incident.state, sha256=sealed.sha256,
           timeline_head=sealed.timeline_head, built_at=sealed.built_at)



FORMATS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "pdf": "application/pdf"}


def document_file(*, incident, kind: str, fmt: str, actor, report_id=None) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of the document ``kind`` of ``incident`` — the latest,
    or report ``report_id`` — numbered on its first issue. 404 when there is nothing to print."""
    item = selectors.source(incident, kind, report_id)
    issued = document_issue(incident=incident, kind=kind, item=item, actor=actor)
    data = render.docx(incident=incident, kind=kind, item=item, issued=issued)
    if fmt == "pdf":
        data = convert.to_pdf(data)
    name = f"{DocumentKind(kind).label}-{incident.pk}-{issued.year}-{issued.number}.{fmt}"
    return name, FORMATS[fmt], data
