"""Writers of the incident's own record (R11, R53, R54): sources, spread figures, attachments,
the classified-access log; the row lock and the checked transition every writer uses. Steps
that cross apps (log, assign, judge, close, reopen) are lifecycle/services.py's."""

import hashlib
import mimetypes
import re
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from sentiment_ops.exceptions import Conflict, Forbidden

from . import permissions as perms
from .models import Attachment, ClassifiedAccess, Incident, Source, SpreadFigure, State
from .search import index_incident
from .timeline import record


def lock(incident: Incident) -> Incident:
    """Re-read the incident under a row lock: actions on one incident run one at a time."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def transit(incident: Incident, method: str, message: str):
    """Run an FSM transition or answer 409 with a message that says why."""
    if not can_proceed(getattr(incident, method)):
        raise Conflict(message % {"state": incident.get_state_display()} if "%(state)s" in message else message)
    getattr(incident, method)()


def levels_reached(incident: Incident, *, warning: int | None = None, response: int | None = None) -> None:
    """Keep the highest warning and response levels the incident has reached (I = 1 is the
    highest): called by the services that issue or adjust a warning and approve a response."""
    changes = {}
    for field, level in (("highest_warning_level", warning), ("highest_response_level", response)):
        current = getattr(incident, field)
        if level is not None and (current is None or level < current):
            changes[field] = level
    if changes:
        Incident.objects.filter(pk=incident.pk).update(**changes)
        for field, level in changes.items():
            setattr(incident, field, level)


# --- additions to the record -----------------------------------------------------------

@transaction.atomic
def source_add(*, incident, actor, url, platform, mainstream_first=False, title="") -> Source:
    incident = lock(incident)
    check_add_information(incident, actor)
    source = Source.objects.create(incident=incident, url=url, platform=platform,
                                   mainstream_first=mainstream_first, title=title, added_by=actor)
    index_incident(incident, url, title)
    record(incident, actor, "source_added", before=incident.state, url=url, platform=platform,
           mainstream_first=mainstream_first)
    return source


@transaction.atomic
def spread_record(*, incident, actor, recorded_at, platform, posts=0, views=0, comments=0, shares=0) -> SpreadFigure:
    incident = lock(incident)
    check_add_information(incident, actor)
    figure = SpreadFigure.objects.create(incident=incident, recorded_at=recorded_at, platform=platform,
                                         posts=posts, views=views, comments=comments, shares=shares,
                                         recorded_by=actor)
    record(incident, actor, "spread_recorded", before=incident.state, platform=platform,
           recorded_at=recorded_at, posts=posts, views=views, comments=comments, shares=shares)
    return figure


def check_add_information(incident, actor):
    """Duty officers, the command group and assigned sections add sources, spread figures and
    attachments to an open incident."""
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能再补充信息；如舆情反复，请先重新启动。"))
    assigned = {s.code for s in incident.sections.all()}
    if not (perms.is_duty(actor) or perms.is_command(actor) or perms.user_section_codes(actor) & assigned):
        raise Forbidden(_("您无权补充此事件的信息。"))


ATTACHMENT_TYPES = {
    "text": ("text/plain", "application/pdf", "application/msword",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "image": ("image/jpeg", "image/png", "image/gif", "image/webp"),
    "audio": ("audio/mpeg", "audio/wav", "audio/x-wav", "audio/mp4", "audio/aac", "audio/ogg"),
    "video": ("video/mp4", "video/quicktime", "video/webm"),
}


def _ftyp_brand(head: bytes) -> bytes | None:
    """The major brand of an ISO base media file (MP4, M4A, QuickTime), else None."""
    return head[8:12] if head[4:8] == b"ftyp" else None


def _is_docx(upload) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)


_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P "}

# What the first bytes of each accepted type must be: the declared type, exactly, not merely a
# member of the same family (an SVG or a GIF declared as image/png is refused).
SIGNATURES = {
    "application/pdf": lambda h, f: h.startswith(b"%PDF-"),
    "application/msword": lambda h, f: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        lambda h, f: h.startswith(b"PK\x03\x04") and _is_docx(f),
    "image/png": lambda h, f: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda h, f: h.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda h, f: h[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda h, f: h.startswith(b"RIFF") and h[8:12] == b"WEBP",
    "audio/mpeg": lambda h, f: h.startswith(b"ID3") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0),
    "audio/wav": lambda h, f: h.startswith(b"RIFF") and h[8:12] == b"WAVE",
    "audio/x-wav": lambda h, f: h.startswith(b"RIFF") and h[8:12] == b"WAVE",
    "audio/mp4": lambda h, f: _ftyp_brand(h) in _AUDIO_MP4_BRANDS,
    "audio/aac": lambda h, f: h.startswith(b"ADIF") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xF6 == 0xF0),
    "audio/ogg": lambda h, f: h.startswith(b"OggS"),
    "video/mp4": lambda h, f: _ftyp_brand(h) not in (None, b"qt  ", *_AUDIO_MP4_BRANDS),
    "video/quicktime": lambda h, f: _ftyp_brand(h) == b"qt  " or h[4:8] in (b"moov", b"mdat", b"wide", b"free"),
    "video/webm": lambda h, f: h.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in h[:64],
}

# Plain text is text: UTF-8 (or GB 18030, what Chinese office software writes), no control
# characters but whitespace, and no markup — nothing a browser would run as HTML, SVG or XML.
_MARKUP = re.compile(rb"<(?:[a-zA-Z][a-zA-Z0-9:-]*[\s/>]|[!?/])")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(upload) -> bool:
    data = b"".join(upload.chunks())
    upload.seek(0)
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    return not (_CONTROL.search(data) or _MARKUP.search(data))


def _content_matches(upload, content_type: str) -> bool:
    """The bytes must be what the declared type says, exactly: its signature for binary
    formats, text without markup for text/plain."""
    if content_type == "text/plain":
        return _plain_text(upload)
    head = upload.read(8192)
    upload.seek(0)
    return SIGNATURES[content_type](head, upload)


@transaction.atomic
def attachment_add(*, incident, actor, upload, note="") -> Attachment:
    """Evidence (R53): text, image, audio or video within the configured size limits."""
    incident = lock(incident)
    check_add_information(incident, actor)
    content_type = (getattr(upload, "content_type", "") or mimetypes.guess_type(upload.name)[0] or "").lower()
    kind = next((k for k, types in ATTACHMENT_TYPES.items() if content_type in types), None)
    if kind is None:
        raise ValidationError({"file": _("不支持的文件类型“%(type)s”：仅限文本、图片、音频、视频。")
                               % {"type": content_type or "?"}})
    limit = settings.ATTACHMENT_MAX_BYTES[kind]
    if upload.size > limit:
        raise ValidationError({"file": _("文件过大：%(kind)s不能超过 %(limit)s。")
                               % {"kind": Attachment.Kind(kind).label, "limit": filesizeformat(limit)}})
    if not _content_matches(upload, content_type):
        raise ValidationError({"file": _("文件内容与声明的类型“%(type)s”不符：图片、音频、视频和文档须与其类型一致，"
                                         "纯文本不得含有 HTML 等标记。") % {"type": content_type}})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(incident=incident, name=upload.name[:200], kind=kind, content_type=content_type,
                            size=upload.size, sha256=digest.hexdigest(), note=note, uploaded_by=actor)
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    record(incident, actor, "attachment_added", before=incident.state, attachment=attachment.pk, name=attachment.name,
           kind=kind, size=upload.size, sha256=attachment.sha256)
    return attachment


def classified_access_log(*, incident, user, via: str) -> None:
    """R54: every opening of a classified incident is logged (content shown or withheld)."""
    if incident.classified:
        ClassifiedAccess.objects.create(incident=incident, user=user, via=via,
                                        content_shown=perms.can_see_content(user, incident))


