"""The incident's writers (R10–R14, R50–R53). Each service is one transaction: lock the
incident → check permission → transition → save → timeline → deadlines → on_commit."""

import hashlib
import mimetypes

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from deadlines import services as deadlines
from organization.models import Section
from sentiment_ops.exceptions import Conflict, Forbidden

from . import permissions as perms
from .models import (
    Assignment,
    Attachment,
    Incident,
    Judgment,
    Severity,
    Source,
    SpreadFigure,
    State,
)
from .timeline import record


def lock(incident: Incident) -> Incident:
    """Re-read the incident under a row lock: actions on one incident run one at a time."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def transit(incident: Incident, method: str, message: str):
    """Run an FSM transition or answer 409 with a message that says why."""
    if not can_proceed(getattr(incident, method)):
        raise Conflict(message % {"state": incident.get_state_display()} if "%(state)s" in message else message)
    getattr(incident, method)()


def sections_by_code(codes, field="sections") -> list[Section]:
    codes = list(dict.fromkeys(codes or []))
    found = {s.code: s for s in Section.objects.filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({field: _("未知的股室代码：%(codes)s") % {"codes": "、".join(unknown)}})
    return [found[c] for c in codes]


# --- intake -------------------------------------------------------------------------

@transaction.atomic
def incident_create(*, actor, title, summary, channel, discovered_at, sources=(), sections=(),
                    classified=False, keywords="", related_groups="", background="",
                    key_contradiction="", netizen_concerns="") -> Incident:
    """Log an incident (R10, R11). Duty officers, the command group, and monitoring software
    through a duty officer's token. Logging it meets the 1-hour quick report (R12)."""
    if not (perms.is_duty(actor) or perms.is_command(actor)):
        raise Forbidden(_("只有值班监测员或舆情信息指挥小组可以登记舆情。"))
    if discovered_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationError({"discovered_at": _("发现时间不能晚于当前时间。")})
    section_rows = sections_by_code(sections)
    incident = Incident.objects.create(
        title=title, summary=summary, channel=channel, discovered_at=discovered_at, reported_by=actor,
        classified=classified, keywords=keywords, related_groups=related_groups, background=background,
        key_contradiction=key_contradiction, netizen_concerns=netizen_concerns,
    )
    for src in sources:
        Source.objects.create(incident=incident, added_by=actor, **src)
    record(incident, actor, "logged", after=incident.state, channel=channel,
           discovered_at=discovered_at, classified=classified, sources=len(sources))
    deadlines.on_logged(incident, actor)
    if section_rows:
        _assign(incident, actor, section_rows)
        _start_handling(incident, actor)
    return incident


def _start_handling(incident, actor):
    before = incident.state
    incident.start_handling()
    incident.save(update_fields=["state"])
    record(incident, actor, "handling_started", before=before, after=incident.state)


@transaction.atomic
def source_add(*, incident, actor, url, platform, mainstream_first=False, title="") -> Source:
    incident = lock(incident)
    _require_open_handler(incident, actor)
    source = Source.objects.create(incident=incident, url=url, platform=platform,
                                   mainstream_first=mainstream_first, title=title, added_by=actor)
    record(incident, actor, "source_added", before=incident.state, url=url, platform=platform,
           mainstream_first=mainstream_first)
    return source


@transaction.atomic
def spread_record(*, incident, actor, recorded_at, platform, posts=0, views=0, comments=0, shares=0) -> SpreadFigure:
    incident = lock(incident)
    _require_open_handler(incident, actor)
    figure = SpreadFigure.objects.create(incident=incident, recorded_at=recorded_at, platform=platform,
                                         posts=posts, views=views, comments=comments, shares=shares,
                                         recorded_by=actor)
    record(incident, actor, "spread_recorded", before=incident.state, platform=platform,
           recorded_at=recorded_at, posts=posts, views=views, comments=comments, shares=shares)
    return figure


def _require_open_handler(incident, actor):
    """Duty officers, the command group and assigned sections add to an open incident."""
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能再补充信息；如舆情反复，请先重新启动。"))
    assigned = set(incident.sections.values_list("code", flat=True))
    if not (perms.is_duty(actor) or perms.is_command(actor) or perms.user_section_codes(actor) & assigned):
        raise Forbidden(_("您无权补充此事件的信息。"))


ATTACHMENT_TYPES = {
    "text": ("text/plain", "application/pdf", "application/msword",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "image": ("image/jpeg", "image/png", "image/gif", "image/webp"),
    "audio": ("audio/mpeg", "audio/wav", "audio/x-wav", "audio/mp4", "audio/aac", "audio/ogg"),
    "video": ("video/mp4", "video/quicktime", "video/webm"),
}


# Office formats sniff as these containers.
_TEXT_CONTAINERS = {"application/zip", "application/x-ole-storage", "application/CDFV2", "application/msword"}


def _content_matches(upload, kind: str, content_type: str) -> bool:
    """The bytes must agree with the declared kind (an .exe renamed .png is refused):
    signatures for binary formats (puremagic), no NUL bytes for plain text."""
    import puremagic

    head = upload.read(8192)
    upload.seek(0)
    if content_type == "text/plain":
        return b"\x00" not in head
    try:
        found = {m.mime_type for m in puremagic.magic_string(head) if m.mime_type}
    except puremagic.PureError:
        return False
    if kind in ("image", "audio", "video"):
        return any(m.startswith(f"{kind}/") for m in found)
    return bool(found & (set(ATTACHMENT_TYPES["text"]) | _TEXT_CONTAINERS))


@transaction.atomic
def attachment_add(*, incident, actor, upload, note="") -> Attachment:
    """Evidence (R53): text, image, audio or video within the configured size limits."""
    incident = lock(incident)
    _require_open_handler(incident, actor)
    content_type = (getattr(upload, "content_type", "") or mimetypes.guess_type(upload.name)[0] or "").lower()
    kind = next((k for k, types in ATTACHMENT_TYPES.items() if content_type in types), None)
    if kind is None:
        raise ValidationError({"file": _("不支持的文件类型“%(type)s”：仅限文本、图片、音频、视频。")
                               % {"type": content_type or "?"}})
    limit = settings.ATTACHMENT_MAX_BYTES[kind]
    if upload.size > limit:
        raise ValidationError({"file": _("文件过大：%(kind)s不能超过 %(limit)s。")
                               % {"kind": Attachment.Kind(kind).label, "limit": filesizeformat(limit)}})
    if not _content_matches(upload, kind, content_type):
        raise ValidationError({"file": _("文件内容与声明的类型“%(type)s”不符。") % {"type": content_type}})
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
    from .models import ClassifiedAccess

    if incident.classified:
        ClassifiedAccess.objects.create(incident=incident, user=user, via=via,
                                        content_shown=perms.can_see_content(user, incident))


# --- assignment ---------------------------------------------------------------------

def _assign(incident, actor, sections):
    from early_warnings.services import send_current_notice

    now = timezone.now()
    for section in sections:
        Assignment.objects.create(incident=incident, section=section, assigned_by=actor)
        perms.grant_section(incident, section)
        record(incident, actor, "assigned", before=incident.state, section=section.code)
        record(incident, actor, "permission_granted", before=incident.state, group=section.group.name,
               permissions=list(perms.SECTION_PERMS))
        notice = send_current_notice(incident, section)
        deadlines.on_section_assigned(incident, section, now, notice=notice)
        if notice is not None:
            from deadlines.notifications import notice_send

            notice_send(incident=incident, user_ids=section.memberships.values_list("user_id", flat=True),
                        title=_("【预警通知】请签收并在规定时间内核实报告：%(title)s") % {"title": incident.title},
                        body=notice.matters)


@transaction.atomic
def incident_assign(*, incident, actor, sections) -> Incident:
    """Assign responsible sections (R2): they see the incident, owe its reports."""
    incident = lock(incident)
    perms.require_command(actor)
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能指派股室。"))
    section_rows = sections_by_code(sections)
    if not section_rows:
        raise ValidationError({"sections": _("请至少选择一个股室。")})
    current = set(incident.sections.values_list("code", flat=True))
    _assign(incident, actor, [s for s in section_rows if s.code not in current])
    if incident.state == State.REPORTED:
        _start_handling(incident, actor)
    return incident


@transaction.atomic
def incident_unassign(*, incident, actor, sections) -> Incident:
    incident = lock(incident)
    perms.require_command(actor)
    for section in sections_by_code(sections):
        if Assignment.objects.filter(incident=incident, section=section).delete()[0]:
            perms.revoke_section(incident, section)
            deadlines.on_section_unassigned(incident, section)
            record(incident, actor, "unassigned", before=incident.state, section=section.code)
            record(incident, actor, "permission_revoked", before=incident.state, group=section.group.name,
                   permissions=list(perms.SECTION_PERMS))
    return incident


# --- judgment -----------------------------------------------------------------------

@transaction.atomic
def incident_judge(*, incident, actor, veracity, severity, analysis="", mode="joint", trend="",
                   recommended_warning_level=None, recommended_response_level=None) -> Incident:
    """研判 (R13, R14): minor → watching (no handling); medium or major → handling, with the
    feedback clock (R15) and, for major, the flash report to leadership."""
    incident = lock(incident)
    perms.require_command(actor)
    if incident.state in (State.AFTERMATH, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态，不能研判；如舆情反复，请先重新启动。")
                       % {"state": incident.get_state_display()})
    before = incident.state
    now = timezone.now()
    Judgment.objects.create(incident=incident, mode=mode, veracity=veracity, severity=severity,
                            analysis=analysis, trend=trend, judged_by=actor,
                            recommended_warning_level=recommended_warning_level,
                            recommended_response_level=recommended_response_level)
    incident.veracity, incident.severity, incident.judged_at = veracity, severity, now
    if severity == Severity.MINOR:
        if incident.state in (State.REPORTED, State.JUDGING):
            incident.watch()
    elif incident.state == State.REPORTED:
        incident.start_handling()
    elif incident.state == State.WATCHING:
        incident.escalate()
    incident.save(update_fields=["veracity", "severity", "judged_at", "state"])
    record(incident, actor, "judged", before=before, after=incident.state, veracity=veracity,
           severity=severity, mode=mode, analysis=analysis,
           recommended_warning_level=recommended_warning_level,
           recommended_response_level=recommended_response_level)
    deadlines.on_judged(incident, now)
    return incident


# --- closure ------------------------------------------------------------------------

@transaction.atomic
def incident_close(*, incident, actor) -> Incident:
    """Close: a minor incident from watching; a handled one from aftermath with its summary
    report (R51)."""
    from responses.models import Report, ReportKind

    incident = lock(incident)
    perms.require_command(actor)
    if incident.state == State.AFTERMATH and not Report.objects.filter(
            incident=incident, kind=ReportKind.SUMMARY).exists():
        raise Conflict(_("办结前须提交舆情分析专题报告。"))
    before = incident.state
    transit(incident, "close", _("事件处于“%(state)s”状态，不能办结。"))
    incident.closed_at = timezone.now()
    incident.save(update_fields=["state", "closed_at"])
    record(incident, actor, "closed", before=before, after=incident.state)
    deadlines.on_closed(incident)
    return incident


@transaction.atomic
def incident_reopen(*, incident, actor, reason) -> Incident:
    """Recurrence (R22, R32, R50): the lifted response is re-activated at once at its last
    level, the lifted warning re-issued; with neither, the incident is judged again."""
    from early_warnings.services import warning_reissue
    from responses.services import response_reactivate

    incident = lock(incident)
    perms.require_command(actor)
    if not reason:
        raise ValidationError({"reason": _("请说明舆情反复的情况。")})
    if incident.state not in (State.WATCHING, State.AFTERMATH, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态，无需重新启动。") % {"state": incident.get_state_display()})
    before = incident.state
    response = getattr(incident, "response", None)
    warning = getattr(incident, "warning", None)
    if response is not None and response.state == "lifted":
        incident.recur_responding()
    elif warning is not None and warning.state == "lifted":
        incident.recur_warned()
    elif incident.state == State.WATCHING:
        incident.escalate()
    else:
        incident.recur_judging()
    incident.closed_at = None
    incident.save(update_fields=["state", "closed_at"])
    record(incident, actor, "reopened", before=before, after=incident.state, reason=reason)
    if warning is not None and warning.state == "lifted":
        warning_reissue(incident=incident, actor=actor, reason=reason)
    if response is not None and response.state == "lifted":
        response_reactivate(incident=incident, actor=actor, reason=reason)
    return incident
