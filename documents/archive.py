"""The sealed record of a closed case (R53, API.md): archive.zip with every document as PDF,
every attachment, the timeline as timeline.json and timeline.csv, and manifest.json listing
each file's SHA-256 and the last link of the timeline's hash chain."""

import csv
import hashlib
import io
import json
import zipfile

from django.utils import timezone

from incidents.models import TimelineEvent
from incidents.timeline import head

from . import convert, render

TIMELINE_COLUMNS = ["seq", "at", "actor", "verb", "before", "after", "reason", "detail", "hash"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def documents(incident, issued: list) -> list[tuple[str, bytes]]:
    """(path, PDF) of every document, ``issued`` being (kind, item, IssuedDocument) triples;
    converted in one batch."""
    names, docx = [], []
    for kind, item, number in issued:
        names.append(f"documents/{kind}-{item._meta.model_name}-{item.pk}.pdf")
        docx.append(render.docx(incident=incident, kind=kind, item=item, issued=number))
    return list(zip(names, convert.to_pdf_many(docx), strict=True))


def timeline_rows(incident) -> list[dict]:
    return [
        {"seq": e.seq, "at": timezone.localtime(e.at).isoformat(), "actor": e.actor.username if e.actor else "",
         "verb": e.verb, "before": e.before, "after": e.after, "reason": e.reason, "detail": e.detail,
         "hash": e.hash}
        for e in TimelineEvent.objects.filter(incident=incident).select_related("actor").order_by("seq")
    ]


def build(incident, issued: list) -> tuple[bytes, dict]:
    files = documents(incident, issued)
    for attachment in incident.attachments.order_by("id"):
        with attachment.file.open("rb") as f:
            files.append((f"attachments/{attachment.pk}-{attachment.name}", f.read()))
    rows = timeline_rows(incident)
    files.append(("timeline.json", json.dumps(rows, ensure_ascii=False, indent=1).encode()))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=TIMELINE_COLUMNS)
    writer.writeheader()
    writer.writerows({**r, "detail": json.dumps(r["detail"], ensure_ascii=False)} for r in rows)
    files.append(("timeline.csv", ("\ufeff" + text.getvalue()).encode()))  # BOM: Excel reads UTF-8
    manifest = {
        "incident": incident.pk,
        "generated_at": timezone.localtime().isoformat(),
        "files": [{"path": path, "sha256": sha256(data), "bytes": len(data)} for path, data in files],
        "timeline_head": head(incident.pk)[1],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for path, data in files:
            zf.writestr(path, data)
    return out.getvalue(), manifest
