"""Steps of the case that cross apps (R2, R10–R15, R22, R50–R51): logging an incident, assigning
and unassigning sections, judging, closing and reopening. Each is one transaction in the
house order: lock the incident → check (the same ``check_*`` the pages ask) → transition →
save → timeline → deadline rows → notices. The warning and response steps are in
early_warnings/services.py and responses/services.py; this layer composes them."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deadlines import notices
from deadlines import services as deadlines
from deadlines.models import Deadline, DeadlineState
from deadlines.notifications import notifications_follow_access
from deadlines.policy import is_loose_end
from early_warnings.models import WarningState
from early_warnings.services import (
    receipts_on_closed,
    receipts_on_reopened,
    send_current_notice,
    warning_lift,
    warning_reissue,
)
from incidents import permissions as perms
from incidents.models import Assignment, Incident, Judgment, Severity, Source, State
from incidents.search import index_incident, own_texts
from incidents.services import lock, transit
from incidents.timeline import record
from organization.models import ROMAN, UnitPolicy
from organization.selectors import sections_by_code, users_by_username
from responses.models import Report, ReportKind, ResponseState
from responses.services import response_reactivate
from sentiment_ops.exceptions import Conflict, Forbidden

SETTLED = (State.AFTERMATH, State.CLOSED)


# --- intake -------------------------------------------------------------------------

def check_log(actor):
    if not (perms.is_duty(actor) or perms.is_command(actor)):
        raise Forbidden(_("只有值班监测员或舆情信息指挥小组可以登记舆情。"))


def check_discovered_at(discovered_at):
    """Times the plan cannot mean: never in the future (a few minutes of clock skew allowed),
    never before the unit's horizon (UnitPolicy.discovery_horizon_days before logging)."""
    now = timezone.now()
    if discovered_at > now + timezone.timedelta(minutes=5):
        raise ValidationError({"discovered_at": _("发现时间不能晚于当前时间。")})
    days = UnitPolicy.current().discovery_horizon_days
    if discovered_at < now - timezone.timedelta(days=days):
        raise ValidationError({"discovered_at": _("发现时间不能早于登记前 %(days)s 天（%(earliest)s）；请核对后填写。")
                               % {"days": days, "earliest": timezone.localtime(
                                   now - timezone.timedelta(days=days)).strftime("%Y-%m-%d %H:%M")}})


@transaction.atomic
def incident_create(*, actor, title, summary, channel, discovered_at, sources=(), sections=(),
                    classified=False, keywords="", related_groups="", background="",
                    key_contradiction="", netizen_concerns="") -> Incident:
    """Log an incident (R10, R11). Duty officers, the command group, and monitoring software
    through a duty officer's token. Logging it meets the 1-hour quick report (R12)."""
    check_log(actor)
    check_discovered_at(discovered_at)
    section_rows = sections_by_code(sections)
    incident = Incident.objects.create(
        title=title, summary=summary, channel=channel, discovered_at=discovered_at, reported_by=actor,
        classified=classified, keywords=keywords, related_groups=related_groups, background=background,
        key_contradiction=key_contradiction, netizen_concerns=netizen_concerns,
    )
    for src in sources:
        Source.objects.create(incident=incident, added_by=actor, **src)
    index_incident(incident, *own_texts(incident), *(src.get(f, "") for src in sources for f in ("url", "title")))
    record(incident, actor, "logged", after=incident.state, channel=channel,
           discovered_at=discovered_at, classified=classified, sources=len(sources))
    deadlines.on_logged(incident, actor)
    if section_rows:
        _assign(incident, actor, section_rows)
        _start_handling(incident, actor)
    notices.tell("logged", incident=incident, body=summary)
    return incident


def _start_handling(incident, actor):
    before = incident.state
    incident.start_handling()
    incident.save(update_fields=["state"])
    record(incident, actor, "handling_started", before=before, after=incident.state)


# --- assignment ---------------------------------------------------------------------

def _assign(incident, actor, sections):
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
            notices.tell("warning_issued", incident=incident, sections=[section], body=notice.matters,
                         level=ROMAN[notice.level])


def check_assign(incident, actor):
    perms.require_command(actor)
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能指派股室。"))


@transaction.atomic
def incident_assign(*, incident, actor, sections) -> Incident:
    """Assign responsible sections (R2): they see the incident, owe its reports."""
    incident = lock(incident)
    check_assign(incident, actor)
    section_rows = sections_by_code(sections)
    if not section_rows:
        raise ValidationError({"sections": _("请至少选择一个股室。")})
    current = set(incident.sections.values_list("code", flat=True))
    _assign(incident, actor, [s for s in section_rows if s.code not in current])
    if incident.state == State.REPORTED:
        _start_handling(incident, actor)
    return incident


def check_unassign(incident, actor):
    perms.require_command(actor)


@transaction.atomic
def incident_unassign(*, incident, actor, sections) -> Incident:
    incident = lock(incident)
    check_unassign(incident, actor)
    for section in sections_by_code(sections):
        if Assignment.objects.filter(incident=incident, section=section).delete()[0]:
            perms.revoke_section(incident, section)
            deadlines.on_section_unassigned(incident, section)
            record(incident, actor, "unassigned", before=incident.state, section=section.code)
            record(incident, actor, "permission_revoked", before=incident.state, group=section.group.name,
                   permissions=list(perms.SECTION_PERMS))
    notifications_follow_access(incident=incident)
    return incident


# --- judgment -----------------------------------------------------------------------

def check_judge(incident, actor):
    perms.require_command(actor)
    if incident.state in SETTLED:
        raise Conflict(_("事件处于“%(state)s”状态，不能研判；如舆情反复，请先重新启动。")
                       % {"state": incident.get_state_display()})


@transaction.atomic
def incident_judge(*, incident, actor, veracity, severity, analysis="", mode="joint", trend="",
                   recommended_warning_level=None, recommended_response_level=None, participants=()) -> Incident:
    """研判 (R13, R14): minor → watching (no handling); medium or major → handling, with the
    feedback clock (R15) and, for major, the flash report to leadership."""
    incident = lock(incident)
    check_judge(incident, actor)
    before = incident.state
    now = timezone.now()
    was_major = incident.severity == Severity.MAJOR
    people = users_by_username(participants)
    Judgment.objects.create(incident=incident, mode=mode, veracity=veracity, severity=severity,
                            analysis=analysis, trend=trend, judged_by=actor,
                            recommended_warning_level=recommended_warning_level,
                            recommended_response_level=recommended_response_level,
                            participants=[u.username for u in people])
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
           recommended_response_level=recommended_response_level,
           **({"participants": [u.username for u in people]} if people else {}))
    deadlines.on_judged(incident, now)
    if severity == Severity.MAJOR and not was_major:
        flash = incident.deadlines.filter(kind="flash").order_by("-due_at").first()
        notices.tell("judged_major", incident=incident, body=analysis,
                     due=timezone.localtime(flash.due_at if flash else now).strftime("%m-%d %H:%M"))
    return incident


def check_section_judgment(incident, actor):
    """R13: a responsible section's own judgment, by its members, while the case is open."""
    if incident.state in SETTLED:
        raise Conflict(_("事件处于“%(state)s”状态，不能研判；如舆情反复，请先重新启动。")
                       % {"state": incident.get_state_display()})
    if not (perms.user_section_codes(actor) & {s.code for s in incident.sections.all()}) and not actor.is_superuser:
        raise Forbidden(_("只有此事件责任股室的成员可以提交股室研判意见。"))


@transaction.atomic
def incident_section_judge(*, incident, actor, section, veracity, analysis, participants=()) -> Judgment:
    """研判意见 of a responsible section (R13, mode ``section``), with its participants when joint.
    It is recorded and shown; severity and the recommended levels stay the command group's."""
    incident = lock(incident)
    check_section_judgment(incident, actor)
    (section_row,) = sections_by_code([section], field="section")
    perms.require_section_member(actor, section_row)
    if not incident.sections.filter(pk=section_row.pk).exists():
        raise ValidationError({"section": _("“%(section)s”不是此事件的责任股室。") % {"section": section_row.name}})
    if not analysis.strip():
        raise ValidationError({"analysis": _("请填写研判分析。")})
    people = users_by_username(participants)
    judgment = Judgment.objects.create(incident=incident, mode=Judgment.Mode.SECTION, section=section_row,
                                       veracity=veracity, severity="", analysis=analysis, judged_by=actor,
                                       participants=[u.username for u in people])
    record(incident, actor, "section_judged", before=incident.state, section=section_row.code, veracity=veracity,
           analysis=analysis, judgment=judgment.pk, participants=judgment.participants)
    return judgment


# --- closure ------------------------------------------------------------------------

CLOSABLE = (State.WATCHING, State.WARNED, State.AFTERMATH)


def check_close(incident, actor):
    perms.require_command(actor)
    if incident.state == State.RESPONDING:
        raise Conflict(_("应急响应仍在进行中：请先经相应机构批准解除应急响应，再办结。"))
    if incident.state not in CLOSABLE:
        raise Conflict(_("事件处于“%(state)s”状态，不能办结。") % {"state": incident.get_state_display()})
    if incident.state == State.AFTERMATH and not _has_summary(incident):
        raise Conflict(_("办结前须提交舆情分析专题报告。"))


def _has_summary(incident) -> bool:
    # A case page's row counts its summary reports (lifecycle.selectors.case_queryset); the
    # service's locked re-read does not, so it asks.
    known = getattr(incident, "summaries_count", None)
    if known is not None:
        return known > 0
    return Report.objects.filter(incident=incident, kind=ReportKind.SUMMARY).exists()


def _deadline_label(deadline) -> str:
    owner = deadline.owner_section.name if deadline.owner_section_id else deadline.owner_body.name
    return _("%(kind)s（%(owner)s，%(due)s 到期）") % {
        "kind": deadline.get_kind_display(), "owner": owner,
        "due": timezone.localtime(deadline.due_at).strftime("%m-%d %H:%M")}


def _require_summary(incident):
    """R51: a handled incident closes with its summary report, all five parts written."""
    summaries = list(Report.objects.filter(incident=incident, kind=ReportKind.SUMMARY))
    if not summaries:
        raise Conflict(_("办结前须提交舆情分析专题报告。"))
    if not any(all((getattr(r, part) or "").strip() for part in Report.SUMMARY_PARTS) for r in summaries):
        latest = summaries[-1]
        missing = [str(Report._meta.get_field(part).verbose_name) for part in Report.SUMMARY_PARTS
                   if not (getattr(latest, part) or "").strip()]
        raise Conflict(_("舆情分析专题报告须包含全部五个部分，尚缺：%(parts)s。") % {"parts": "、".join(missing)})


@transaction.atomic
def incident_close(*, incident, actor, lift_warning_reason="") -> Incident:
    """Close with no loose ends (R50, R51; API.md v1.1): no response active or pending, no
    warning in force (or it is lifted in this same step, recorded), the summary report with
    its five parts for a handled incident, and none of the one-off obligations
    (deadlines.policy.LOOSE_ENDS) still open unless the command group waived it."""
    incident = lock(incident)
    check_close(incident, actor)
    response = getattr(incident, "response", None)
    if response is not None and response.state != ResponseState.LIFTED:
        raise Conflict(_("有待审批的应急响应提议或解除提议：请先审批、驳回或撤回，再办结。"))
    warning = getattr(incident, "warning", None)
    lifted = None
    if warning is not None and warning.state == WarningState.ACTIVE:
        if not lift_warning_reason.strip():
            raise Conflict(_("预警仍在生效中：请先解除预警，或在办结时填写解除理由一并解除。"))
        lifted = warning_lift(incident=incident, actor=actor, reason=lift_warning_reason, closing=True)
        incident = lock(incident)  # re-read: the lift may have moved it to aftermath
    if incident.state == State.AFTERMATH:
        _require_summary(incident)
    open_ends = list(deadlines.loose_ends(incident).select_related("owner_section", "owner_body"))
    if open_ends:
        raise Conflict(_("尚有未完成的期限：%(items)s。请先完成，或由舆情信息指挥小组逐项豁免并说明理由。")
                       % {"items": "；".join(_deadline_label(d) for d in open_ends)})
    before = incident.state
    transit(incident, "close", _("事件处于“%(state)s”状态，不能办结。"))
    incident.closed_at = timezone.now()
    incident.save(update_fields=["state", "closed_at"])
    record(incident, actor, "closed", before=before, after=incident.state,
           warning_lifted=lifted.pk if lifted is not None else None,
           waived=list(incident.deadlines.filter(state=DeadlineState.WAIVED).values_list("pk", flat=True)))
    deadlines.on_closed(incident)
    receipts_on_closed(incident)
    notices.tell("closed", incident=incident, body=lift_warning_reason)
    return incident


def check_waive(incident, actor, deadline=None):
    """At closing: the command group releases an open obligation closing would leave behind."""
    perms.require_command(actor)
    if incident.state not in CLOSABLE:
        raise Conflict(_("只有在办结事件时可以豁免期限；事件处于“%(state)s”状态。")
                       % {"state": incident.get_state_display()})
    if deadline is not None and not is_loose_end(deadline):
        raise Conflict(_("只有尚未完成的舆情快报、书面反馈、预警核实、会商和工作指令期限可以豁免；该期限为“%(kind)s”，状态“%(state)s”。")
                       % {"kind": deadline.get_kind_display(), "state": deadline.get_state_display()})


@transaction.atomic
def deadline_waive(*, incident, actor, deadline, reason) -> Deadline:
    """豁免 (API.md v1.1 ``waive``): ``waived`` with the reason, recorded and counted as such."""
    incident = lock(incident)
    row = (Deadline.objects.select_for_update(of=("self",)).select_related("owner_section", "owner_body")
           .filter(incident=incident, pk=deadline).first())
    if row is None:
        raise ValidationError({"deadline": _("此事件没有编号为 %(id)s 的期限。") % {"id": deadline}})
    check_waive(incident, actor, row)
    deadlines.waive(row, actor, reason)
    record(incident, actor, "deadline_waived", before=incident.state, deadline=row.pk, kind=row.kind,
           owner=row.owner_code, due_at=row.due_at, reason=reason)
    if row.owner_section_id:
        notices.tell("deadline_waived", incident=incident, sections=[row.owner_section], body=reason,
                     kind=row.get_kind_display())
    return row


def check_reopen(incident, actor):
    perms.require_command(actor)
    if incident.state not in (State.WATCHING, State.AFTERMATH, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态，无需重新启动。") % {"state": incident.get_state_display()})


@transaction.atomic
def incident_reopen(*, incident, actor, reason) -> Incident:
    """Recurrence (R22, R32, R50): the lifted response is re-activated at once at its last
    level, the lifted warning re-issued; with neither, the incident is judged again."""
    incident = lock(incident)
    perms.require_command(actor)
    if not reason:
        raise ValidationError({"reason": _("请说明舆情反复的情况。")})
    check_reopen(incident, actor)
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
    if before == State.CLOSED:
        deadlines.on_reopened(incident)
        receipts_on_reopened(incident)
    if warning is not None and warning.state == "lifted":
        warning_reissue(incident=incident, actor=actor, reason=reason)
    if response is not None and response.state == "lifted":
        response_reactivate(incident=incident, actor=actor, reason=reason)
    notices.tell("reopened", incident=incident, body=reason)
    return incident
