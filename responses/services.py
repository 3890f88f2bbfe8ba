"""Response by level (R30–R34), stability (R32), reports (R31, R51) and public material."""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deadlines import notices
from deadlines import services as deadlines
from deadlines.models import DeadlineState, Kind
from incidents import permissions as perms
from incidents.models import State
from incidents.search import index_incident
from incidents.selectors import visible
from incidents.services import levels_reached, lock
from incidents.timeline import record
from organization.calendar import CalendarNotConfirmed, day_info, working_days_between
from organization.models import ROMAN, Body, LevelPolicy
from organization.selectors import (
    deciding_body,
    office_section,
    sections_by_code,
    users_by_username,
)
from sentiment_ops.exceptions import Conflict, Forbidden

from .models import (
    Consultation,
    ConsultationDecision,
    Instruction,
    PublicityAction,
    Report,
    ReportKind,
    Response,
    ResponseProposal,
    ResponseState,
    StabilityAssessment,
    Statement,
    StatementState,
    SupportRequest,
)


def _response(incident, *, required=True) -> Response | None:
    response = (Response.objects.select_for_update(of=("self",)).select_related("proposal")
                .filter(incident=incident).first())
    if response is None and required:
        raise Conflict(_("该事件尚未启动应急响应。"))
    return response


def _require_body_member(actor, level: int, proposer_id: int, what: str):
    """R4/R30: only a member of the level's body decides, and never the proposer."""
    if actor.pk == proposer_id:
        raise Forbidden(_("不能审批自己提出的%(what)s。") % {"what": what})
    if level not in perms.body_levels(actor):
        body = deciding_body(level)
        raise Forbidden(_("只有“%(body)s”的成员可以审批%(level)s级响应的%(what)s。")
                        % {"body": body.name if body else level, "level": ROMAN[level], "what": what})


def _require_stable_days(response, message: str, needed: int | None = None):
    """R32: a lift or a lowering waits for the current level's N consecutive stable working
    days (LevelPolicy.stable_working_days: 7/5/3 in the seeds); ``message`` says what waits.
    ``needed``: the level's days when the caller's row already carries them (the case page)."""
    needed = needed or LevelPolicy.for_level(response.level).stable_working_days
    if response.stable_working_days < needed:
        raise Conflict(message % {"have": response.stable_working_days, "need": needed,
                                  "level": ROMAN[response.level]})


def _require_lowering_stable(response, level):
    if response is not None and response.state == ResponseState.ACTIVE and level > response.level:
        _require_stable_days(response, _("连续平稳工作日为 %(have)s 天，%(level)s级响应需满 %(need)s 天才能调低响应级别。"))


def _require_sections_for(incident, level):
    """Levels I–III oblige the responsible sections to report (R31): no section, no response."""
    if level <= 3 and not incident.sections.exists():
        raise Conflict(_("%(level)s级应急响应须先指派责任股室（由其按时专报），请先指派股室。") % {"level": ROMAN[level]})


def _instruct(incident, actor, subject, decision, level, text, proposal=None):
    """批示意见: kept with the decision when written (always on a rejection)."""
    if text:
        Instruction.objects.create(incident=incident, subject=subject, decision=decision, level=level, text=text,
                                   author=actor, proposal=proposal)


# --- proposals and approvals -----------------------------------------------------------

def _current(incident) -> Response | None:
    """The incident's response as loaded (no lock): what the checks read."""
    return getattr(incident, "response", None)


def check_propose_response(incident, actor):
    perms.require_command(actor)
    if incident.state in (State.AFTERMATH, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态；如舆情反复，请先重新启动。")
                       % {"state": incident.get_state_display()})
    if incident.judged_at is None:
        raise Conflict(_("该事件尚未研判：请先由舆情信息指挥小组研判，再提议应急响应。"))
    response = _current(incident)
    if response is not None and response.state == ResponseState.LIFT_PROPOSED:
        raise Conflict(_("解除响应的提议正在审批中，不能同时调整级别。"))
    if response is not None and response.proposal_id:
        pending = response.proposal
        raise Conflict(_("%(level)s级应急响应提议（%(at)s 提出）尚待审批：请等待审批，或先撤回该提议。")
                       % {"level": ROMAN[pending.level],
                          "at": timezone.localtime(pending.proposed_at).strftime("%Y-%m-%d %H:%M")})


@transaction.atomic
def response_propose(*, incident, actor, level, reason="") -> ResponseProposal:
    """Propose to start, raise or lower a response (R30); refused while one is pending."""
    incident = lock(incident)
    check_propose_response(incident, actor)
    response = _response(incident, required=False)
    if response is not None and response.state == ResponseState.ACTIVE and response.level == level:
        raise ValidationError({"level": _("当前已是%(level)s级响应。") % {"level": ROMAN[level]}})
    _require_sections_for(incident, level)
    _require_lowering_stable(response, level)
    proposal = ResponseProposal.objects.create(
        incident=incident, level=level, from_level=response.level if response else None,
        reason=reason, proposed_by=actor)
    if response is None:
        response = Response.objects.create(incident=incident, proposal=proposal, reported_at=incident.reported_at)
    else:
        response.proposal = proposal
        response.save(update_fields=["proposal"])
    record(incident, actor, "response_proposed", before=incident.state, level=level,
           from_level=proposal.from_level, reason=reason, proposal=proposal.pk)
    notices.tell("proposal_made", incident=incident, body_level=proposal.deciding_level, awaits=_awaits(proposal),
                 body=reason, level=ROMAN[level])
    return proposal


def _awaits(proposal) -> str:
    return f"proposal:{proposal.pk}"


def check_withdraw_proposal(incident, actor):
    perms.require_command(actor)
    response = _current(incident)
    if response is None or not response.proposal_id:
        raise Conflict(_("没有待审批的响应级别提议。"))


@transaction.atomic
def proposal_withdraw(*, incident, actor, reason) -> Response | None:
    """The command group withdraws the pending start/raise/lower proposal (API.md v1.1); the
    body is told and its 【待审批】 notice is done."""
    incident = lock(incident)
    check_withdraw_proposal(incident, actor)
    if not reason:
        raise ValidationError({"reason": _("请填写撤回理由。")})
    proposal, response = _set_aside(incident, actor, _response(incident), ResponseProposal.Decision.WITHDRAWN,
                                    reason, "response_proposal_withdrawn")
    notices.tell("proposal_withdrawn", incident=incident, body_level=proposal.deciding_level, body=reason,
                 level=ROMAN[proposal.level])
    return response


def _set_aside(incident, actor, response, decision, reason, verb) -> tuple[ResponseProposal, Response | None]:
    """The pending proposal is rejected or withdrawn: recorded with its reason, the body's
    【待审批】 done; a response never started goes (the proposal and the timeline keep the
    record), a running one keeps its level."""
    proposal = response.proposal
    proposal.decision, proposal.decided_by = decision, actor
    proposal.decided_at, proposal.decision_reason = timezone.now(), reason
    proposal.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])
    if response.state == ResponseState.PROPOSED:
        response.delete()
        response = None
    else:
        response.proposal = None
        response.save(update_fields=["proposal"])
    record(incident, actor, verb, before=incident.state, level=proposal.level, reason=reason, proposal=proposal.pk)
    notices.decided(_awaits(proposal))
    return proposal, response


def check_decide_response(incident, actor, approve=False):
    """Approve or reject the pending start/raise/lower proposal: the body of the higher of the
    current and the proposed level (``ResponseProposal.deciding_level``), never the proposer
    (R4, R30). An approval also needs what the proposal needed: sections for levels I–III, the
    stable working days for a lowering."""
    response = _current(incident)
    if response is None:
        raise Conflict(_("该事件尚未启动应急响应。"))
    proposal = response.proposal
    if proposal is None:
        raise Conflict(_("没有待审批的响应级别提议。"))
    _require_body_member(actor, proposal.deciding_level, proposal.proposed_by_id, _("响应级别提议"))
    if approve:
        _require_sections_for(incident, proposal.level)
        _require_lowering_stable(response, proposal.level)


def check_approve_response(incident, actor):
    check_decide_response(incident, actor, approve=True)


@transaction.atomic
def response_approve(*, incident, actor, comment="") -> Response:
    incident = lock(incident)
    check_approve_response(incident, actor)
    response = _response(incident)
    proposal = response.proposal
    now = timezone.now()
    before = incident.state
    first = response.state == ResponseState.PROPOSED
    if first:
        response.activate()
        response.activated_at = now
    else:
        response.change_level()
    response.level, response.level_since, response.proposal = proposal.level, now, None
    response.stable_working_days = 0
    response.save(update_fields=["state", "level", "level_since", "proposal", "activated_at",
                                 "stable_working_days"])
    proposal.decision, proposal.decided_by, proposal.decided_at = ResponseProposal.Decision.APPROVED, actor, now
    proposal.decision_reason = comment
    proposal.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])
    if incident.state != State.RESPONDING:
        incident.respond()
        incident.save(update_fields=["state"])
    _instruct(incident, actor, Instruction.Subject.PROPOSAL, Instruction.Decision.APPROVED, proposal.level,
              comment, proposal)
    levels_reached(incident, response=proposal.level)
    record(incident, actor, "response_approved", before=before, after=incident.state, level=proposal.level,
           from_level=proposal.from_level, proposal=proposal.pk, **({"comment": comment} if comment else {}))
    if first:
        deadlines.on_response_activated(incident, now)
    else:
        deadlines.on_level_changed(incident, now)
    notices.decided(_awaits(proposal))
    notices.tell("proposal_approved", incident=incident, proposer=proposal.proposed_by, level=ROMAN[proposal.level])
    change = ("response_activated" if first else
              "response_raised" if proposal.level < (proposal.from_level or 5) else "response_lowered")
    notices.tell(change, incident=incident, level=ROMAN[proposal.level])
    return response


@transaction.atomic
def response_reject(*, incident, actor, reason) -> Response | None:
    incident = lock(incident)
    check_decide_response(incident, actor)
    if not reason:
        raise ValidationError({"reason": _("请填写驳回理由。")})
    proposal, response = _set_aside(incident, actor, _response(incident), ResponseProposal.Decision.REJECTED,
                                    reason, "response_rejected")
    _instruct(incident, actor, Instruction.Subject.PROPOSAL, Instruction.Decision.REJECTED, proposal.level,
              reason, proposal)
    notices.tell("proposal_rejected", incident=incident, proposer=proposal.proposed_by, body=reason,
                 level=ROMAN[proposal.level])
    return response


def response_reactivate(*, incident, actor, reason) -> Response:
    """Recurrence re-activates the lifted response at its last level (called by reopen)."""
    response = _response(incident)
    now = timezone.now()
    response.reactivate()
    response.level_since, response.lifted_at, response.stable_working_days = now, None, 0
    response.lift_reason, response.lift_proposed_by = "", None
    response.save(update_fields=["state", "level_since", "lifted_at", "stable_working_days",
                                 "lift_reason", "lift_proposed_by"])
    deadlines.cancel(incident.deadlines.filter(kind=Kind.SUMMARY), "recurrence")
    record(incident, actor, "response_reactivated", before=incident.state, level=response.level, reason=reason)
    deadlines.on_response_activated(incident, now)
    return response


# --- stability and lifting (R32) ---------------------------------------------------------

def stable_working_days(incident, response) -> int:
    """Consecutive stable working days, counted back from the latest assessment, since the
    current level began. A non-working day neither counts nor breaks the streak; an
    unstable or unassessed working day breaks it."""
    since = timezone.localdate(response.level_since)
    assessed = dict(incident.assessments.filter(date__gte=since).values_list("date", "stable"))
    if not assessed:
        return 0
    count = 0
    for day in reversed(working_days_between(since, max(assessed))):
        if not assessed.get(day):
            break
        count += 1
    return count


def lift_eligible(response, *, stable_days: int | None = None) -> bool:
    """``stable_days``: the level's target when the caller already has it (read on the
    incident's row by ``organization.selectors.stable_days_target``), else the level's policy
    is read."""
    if not (response.level is not None and response.state in (ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED)):
        return False
    if stable_days is None:
        stable_days = LevelPolicy.for_level(response.level).stable_working_days
    return response.stable_working_days >= stable_days


def _running(response) -> bool:
    return response is not None and response.state in (ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED)


def check_assess(incident, actor):
    perms.require_command(actor)
    response = _current(incident)
    if response is None:
        raise Conflict(_("该事件尚未启动应急响应。"))
    if not _running(response):
        raise Conflict(_("只有响应期间才需要逐日研判是否平稳。"))


@transaction.atomic
def stability_assess(*, incident, actor, date, stable, note="") -> StabilityAssessment:
    incident = lock(incident)
    check_assess(incident, actor)
    response = _response(incident)
    today = timezone.localdate()
    if date > today:
        raise ValidationError({"date": _("不能研判未来的日期。")})
    if date < timezone.localdate(response.level_since):
        raise ValidationError({"date": _("该日期早于当前响应级别的启动日期。")})
    try:
        day = day_info(date)  # a year not yet confirmed: the statutory rules (provisional)
    except CalendarNotConfirmed as exc:
        raise ValidationError({"date": str(exc)}) from None
    if not day.is_workday and day.provisional:
        raise ValidationError({"date": _("%(date)s 不是工作日（暂定日历，按法定节假日规则推算%(name)s）：平稳天数只按工作日计算。")
                               % {"date": date, "name": f"：{day.holiday_name}" if day.holiday_name else ""}})
    if not day.is_workday:
        raise ValidationError({"date": _("%(date)s 不是工作日：平稳天数只按工作日计算。") % {"date": date}})
    if incident.assessments.filter(date=date).exists():
        raise Conflict(_("%(date)s 已经研判过。") % {"date": date})
    assessment = StabilityAssessment.objects.create(incident=incident, date=date, stable=stable, note=note,
                                                    assessed_by=actor)
    try:
        response.stable_working_days = stable_working_days(incident, response)
    except CalendarNotConfirmed as exc:
        raise ValidationError({"date": str(exc)}) from None
    needed = LevelPolicy.for_level(response.level).stable_working_days
    if stable and response.stable_working_days == needed and response.state == ResponseState.ACTIVE:
        # R32: after N consecutive stable working days the body is asked to lift or lower.
        notices.tell("stable_days", incident=incident, body_level=response.level, level=ROMAN[response.level],
                     n=needed)
    if not stable and response.state == ResponseState.LIFT_PROPOSED:
        response.keep()  # instability while a lift is pending withdraws it
        notices.decided(_lift_awaits(response))
    response.save(update_fields=["stable_working_days", "state"])
    record(incident, actor, "stability_assessed", before=incident.state, date=date, stable=stable, note=note,
           stable_working_days=response.stable_working_days, provisional=day.provisional)
    return assessment


def check_propose_lift(incident, actor):
    perms.require_command(actor)
    response = _current(incident)
    if response is None:
        raise Conflict(_("该事件尚未启动应急响应。"))
    if response.state == ResponseState.LIFT_PROPOSED:
        raise Conflict(_("解除应急响应的提议已提交，正在等待审批。"))
    if response.state != ResponseState.ACTIVE:
        raise Conflict(_("只有响应中的事件可以提议解除。"))
    if response.proposal_id:
        raise Conflict(_("级别调整的提议尚在审批中。"))
    # The level's stable days: a case page's row carries them (lifecycle.selectors.case_queryset,
    # ``policy_stable_days``); the service's locked re-read never does, so it reads the policy.
    _require_stable_days(response, _("连续平稳工作日为 %(have)s 天，%(level)s级响应需满 %(need)s 天才能提议解除。"),
                         getattr(incident, "policy_stable_days", None))


@transaction.atomic
def lift_propose(*, incident, actor, reason) -> Response:
    incident = lock(incident)
    check_propose_lift(incident, actor)
    response = _response(incident)
    response.propose_lift()
    response.lift_proposed_by, response.lift_reason = actor, reason
    response.save(update_fields=["state", "lift_proposed_by", "lift_reason"])
    record(incident, actor, "lift_proposed", before=incident.state, level=response.level, reason=reason,
           stable_working_days=response.stable_working_days)
    notices.tell("lift_proposed", incident=incident, body_level=response.level, awaits=_lift_awaits(response),
                 body=reason, level=ROMAN[response.level])
    return response


def _lift_awaits(response) -> str:
    return f"lift:{response.pk}"


def check_decide_lift(incident, actor):
    """Approve or reject the lift: the body of the active level, never the proposer."""
    response = _current(incident)
    if response is None:
        raise Conflict(_("该事件尚未启动应急响应。"))
    if response.state != ResponseState.LIFT_PROPOSED:
        raise Conflict(_("没有待审批的解除提议。"))
    _require_body_member(actor, response.level, response.lift_proposed_by_id, _("解除提议"))


@transaction.atomic
def lift_approve(*, incident, actor, comment="") -> Response:
    incident = lock(incident)
    check_decide_lift(incident, actor)
    response = _response(incident)
    now = timezone.now()
    before = incident.state
    response.lift()
    response.lifted_at = now
    response.save(update_fields=["state", "lifted_at"])
    incident.settle()
    incident.save(update_fields=["state"])
    _instruct(incident, actor, Instruction.Subject.LIFT, Instruction.Decision.APPROVED, response.level, comment)
    record(incident, actor, "response_lifted", before=before, after=incident.state, level=response.level,
           reason=response.lift_reason, **({"comment": comment} if comment else {}))
    try:
        deadlines.on_response_lifted(incident, now)
    except CalendarNotConfirmed as exc:
        raise Conflict(str(exc)) from None
    notices.decided(_lift_awaits(response))
    notices.tell("lift_approved", incident=incident, proposer=response.lift_proposed_by, level=ROMAN[response.level])
    notices.tell("response_lifted", incident=incident, level=ROMAN[response.level])
    return response


@transaction.atomic
def lift_reject(*, incident, actor, reason) -> Response:
    incident = lock(incident)
    check_decide_lift(incident, actor)
    response = _response(incident)
    if not reason:
        raise ValidationError({"reason": _("请填写驳回理由。")})
    response.keep()
    response.save(update_fields=["state"])
    _instruct(incident, actor, Instruction.Subject.LIFT, Instruction.Decision.REJECTED, response.level, reason)
    record(incident, actor, "lift_rejected", before=incident.state, level=response.level, reason=reason)
    notices.decided(_lift_awaits(response))
    notices.tell("lift_rejected", incident=incident, proposer=response.lift_proposed_by, body=reason,
                 level=ROMAN[response.level])
    return response


# --- reports (R31, R51) -------------------------------------------------------------------

SECTION_REPORTS = {ReportKind.VERIFICATION, ReportKind.STATUS}


def _require_my_assigned_section(incident, actor):
    """The actor belongs to one of the incident's responsible sections (R2)."""
    if not (perms.user_section_codes(actor) & {s.code for s in incident.sections.all()}) and not actor.is_superuser:
        raise Forbidden(_("您不是此事件责任股室的成员。"))


def _require_running_for_status(incident):
    if not _running(_current(incident)):
        raise Conflict(_("应急响应期间才需要专报。"))


def check_report(incident, actor, kind=None):
    """May ``actor`` submit a report (of ``kind`` when given) now? The service checks the
    section named in the payload on top of this."""
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能再提交报告。"))
    if kind in SECTION_REPORTS:
        _require_my_assigned_section(incident, actor)
        if kind == ReportKind.STATUS:
            _require_running_for_status(incident)
    elif kind is not None and kind != ReportKind.QUICK:
        perms.require_command(actor)


@transaction.atomic
def report_submit(*, incident, actor, kind, section=None, body="", zero=False, **parts) -> Report:
    """A report by the owner of its deadline kind: a section (verification, status, quick)
    or the command group (flash, feedback, briefing, judgment, summary). It meets the
    earliest pending deadline of its kind and owner and starts the next clock."""
    incident = lock(incident)
    check_report(incident, actor)
    section_row, owner_body = None, None
    if kind == ReportKind.QUICK and not section:
        office = office_section()
        section = office.code if office is not None else ""
    if kind in SECTION_REPORTS or (kind == ReportKind.QUICK and section):
        if not section:
            raise ValidationError({"section": _("请选择报送股室。")})
        (section_row,) = sections_by_code([section], field="section")
        perms.require_section_member(actor, section_row)
        if kind in SECTION_REPORTS and not incident.sections.filter(pk=section_row.pk).exists():
            raise ValidationError({"section": _("“%(section)s”不是此事件的责任股室。") % {"section": section_row.name}})
    else:
        perms.require_command(actor)
        owner_body = Body.objects.get(code=Body.COMMAND)
    if zero and kind != ReportKind.STATUS:
        raise ValidationError({"zero": _("只有专报可以零报告。")})
    if kind == ReportKind.STATUS:
        _require_running_for_status(incident)
    summary_parts = {k: (parts.get(k) or "").strip() for k in Report.SUMMARY_PARTS}
    if not zero and not (body or "").strip() and not any(summary_parts.values()):
        raise ValidationError({"body": _("请填写报告内容；没有新情况请使用零报告。")})
    report = Report.objects.create(incident=incident, kind=kind, section=section_row, owner_body=owner_body,
                                   body=body or "", zero=zero, author=actor,
                                   **(summary_parts if kind == ReportKind.SUMMARY else {}))
    if not zero:
        index_incident(incident, report.body, *(summary_parts.values() if kind == ReportKind.SUMMARY else ()))
    deadline = deadlines.on_report(incident, report, actor)
    record(incident, actor, "report_submitted", before=incident.state, kind=kind, report=report.pk,
           section=section_row.code if section_row else None, zero=zero,
           deadline=deadline.pk if deadline else None,
           deadline_state=deadline.state if deadline else None)
    if kind in (ReportKind.FLASH, ReportKind.BRIEFING):  # R5, R14: straight to leadership
        notices.tell("report_to_leadership", incident=incident, body=report.body, kind=report.get_kind_display())
    return report


# --- expanded response, publicity, statements (R33, R34, R52) -------------------------------

def check_support_request(incident, actor):
    perms.require_command(actor)
    if incident.state != State.RESPONDING:
        raise Conflict(_("只有应急响应期间可以请求扩大应急响应。"))


@transaction.atomic
def support_request(*, incident, actor, content, addressee="") -> SupportRequest:
    incident = lock(incident)
    check_support_request(incident, actor)
    req = SupportRequest.objects.create(incident=incident, content=content, requested_by=actor,
                                        **({"addressee": addressee} if addressee else {}))
    record(incident, actor, "support_requested", before=incident.state, request=req.pk,
           addressee=req.addressee, content=content)
    return req


@transaction.atomic
def support_answer(*, incident, actor, request_id, answer) -> SupportRequest:
    incident = lock(incident)
    perms.require_command(actor)
    req = SupportRequest.objects.select_for_update().filter(incident=incident, pk=request_id).first()
    if req is None:
        raise ValidationError({"request": _("没有这条支援请求。")})
    if req.answered_at:
        raise Conflict(_("该请求的答复已经记录。"))
    req.answer, req.answered_at, req.answer_recorded_by = answer, timezone.now(), actor
    req.save(update_fields=["answer", "answered_at", "answer_recorded_by"])
    record(incident, actor, "support_answered", before=incident.state, request=req.pk, answer=answer)
    return req


def check_publicity(incident, actor):
    perms.require_command(actor)
    if incident.state in (State.REPORTED, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态，不能开展宣传引导。") % {"state": incident.get_state_display()})


@transaction.atomic
def publicity_start(*, incident, actor, tier, note="") -> PublicityAction:
    incident = lock(incident)
    check_publicity(incident, actor)
    action = PublicityAction.objects.create(incident=incident, tier=tier, note=note, started_by=actor)
    record(incident, actor, "publicity_started", before=incident.state, tier=tier, note=note)
    return action


def _refuse_statement_when_closed(incident):
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结。"))


def check_draft_statement(incident, actor):
    _refuse_statement_when_closed(incident)
    _require_my_assigned_section(incident, actor)


@transaction.atomic
def statement_draft(*, incident, actor, section, kind, title, body, channel="") -> Statement:
    incident = lock(incident)
    (section_row,) = sections_by_code([section], field="section")
    perms.require_section_member(actor, section_row)
    if not incident.sections.filter(pk=section_row.pk).exists():
        raise ValidationError({"section": _("“%(section)s”不是此事件的责任股室。") % {"section": section_row.name}})
    _refuse_statement_when_closed(incident)
    statement = Statement.objects.create(incident=incident, section=section_row, kind=kind, title=title,
                                         body=body, channel=channel, drafted_by=actor)
    index_incident(incident, title, body)
    record(incident, actor, "statement_drafted", before=incident.state, statement=statement.pk, kind=kind,
           title=title, section=section_row.code)
    notices.tell("statement_submitted", incident=incident, awaits=_statement_awaits(statement), body=body,
                 section=section_row.name, statement=title)
    return statement


def _statement_awaits(statement) -> str:
    return f"statement:{statement.pk}"


def _statement(incident, statement_id) -> Statement:
    statement = Statement.objects.select_for_update().filter(incident=incident, pk=statement_id).first()
    if statement is None:
        raise ValidationError({"statement": _("没有这份口径或声明。")})
    return statement


@transaction.atomic
def statement_decide(*, incident, actor, statement_id, approve: bool, reason="") -> Statement:
    incident = lock(incident)
    perms.require_command(actor)
    statement = _statement(incident, statement_id)
    if statement.state != StatementState.DRAFT:
        raise Conflict(_("该稿件已审核。"))
    if approve and statement.section.code in perms.user_section_codes(actor) and not actor.is_superuser:
        # four eyes: the drafting section's own member does not approve its statement
        raise Forbidden(_("您是起草股室“%(section)s”的成员，不能审定本股室的稿件，请由指挥小组其他成员审定。")
                        % {"section": statement.section.name})
    if not approve and not reason:
        raise ValidationError({"reason": _("请填写退回理由。")})
    statement.approve() if approve else statement.reject()
    statement.decided_by, statement.decided_at, statement.decision_reason = actor, timezone.now(), reason
    statement.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    event = "statement_approved" if approve else "statement_rejected"
    record(incident, actor, event, before=incident.state, statement=statement.pk, reason=reason)
    notices.decided(_statement_awaits(statement))
    notices.tell(event, incident=incident, sections=[statement.section], body=reason, statement=statement.title)
    return statement


@transaction.atomic
def statement_release(*, incident, actor, statement_id) -> Statement:
    incident = lock(incident)
    perms.require_command(actor)
    statement = _statement(incident, statement_id)
    if statement.state != StatementState.APPROVED:
        raise Conflict(_("只有审定后的稿件才能发布。"))
    statement.release()
    statement.released_at = timezone.now()
    statement.save(update_fields=["state", "released_at"])
    record(incident, actor, "statement_released", before=incident.state, statement=statement.pk)
    return statement




# --- consultations and work orders (R14, R35) --------------------------------------------

def check_convene(incident, actor):
    if not (perms.is_command(actor) or perms.body_levels(actor)):
        raise Forbidden(_("只有舆情信息指挥小组或应急指挥机构的成员可以召集会商。"))
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能召集会商；如舆情反复，请先重新启动。"))


@transaction.atomic
def consultation_convene(*, incident, actor, agenda, participants=(), outside=()) -> Consultation:
    """会商 (R35): convened with internal participants (and through them their sections) and
    outside departments; meets the command group's pending ``consultation`` deadline."""
    incident = lock(incident)
    check_convene(incident, actor)
    people = users_by_username(participants)
    outside = [o.strip() for o in outside if o and o.strip()]
    if not people and not outside:
        raise ValidationError({"participants": _("请至少选择一名参会人员或填写一个外部参会单位。")})
    blind = [u for u in people if not visible(u).filter(pk=incident.pk).exists()]
    if blind:  # they could neither open the case nor the notice's link
        raise ValidationError({"participants": _("%(names)s看不到此事件：请先指派其所在股室。")
                               % {"names": "、".join(str(u) for u in blind)}})
    now = timezone.now()
    consultation = Consultation.objects.create(incident=incident, agenda=agenda, convened_by=actor,
                                               convened_at=now, outside=list(dict.fromkeys(outside)))
    consultation.participants.set(people)
    # The incident's responsible sections the participants come from: the sections concerned.
    sections = list(incident.sections.filter(memberships__user__in=people).distinct().order_by("order", "code"))
    consultation.sections.set(sections)
    deadline = deadlines.on_convened(incident, now, actor)
    record(incident, actor, "consultation_convened", before=incident.state, consultation=consultation.pk,
           agenda=agenda, participants=[u.username for u in people], sections=[s.code for s in sections],
           outside=consultation.outside, deadline=deadline.pk if deadline else None,
           deadline_state=deadline.state if deadline else None)
    notices.tell("consultation_convened", incident=incident, people=people, sections=sections, body=agenda,
                 agenda=agenda[:60])
    return consultation


def check_record_consultation(incident, actor, consultation=None):
    """Whoever convened it, or the command group (any consultation, when none is named)."""
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能再记录会商纪要；如舆情反复，请先重新启动。"))
    if not perms.is_command(actor) and (consultation is None or consultation.convened_by_id != actor.pk):
        if consultation is None and incident.consultations.filter(convened_by=actor).exists():
            return
        raise Forbidden(_("只有会商召集人或舆情信息指挥小组可以记录会商纪要。"))


def _consultation(incident, pk) -> Consultation:
    consultation = Consultation.objects.select_for_update().filter(incident=incident, pk=pk).first()
    if consultation is None:
        raise ValidationError({"consultation": _("此事件没有编号为 %(id)s 的会商。") % {"id": pk}})
    return consultation


@transaction.atomic
def consultation_record(*, incident, actor, consultation, minutes, decisions=()) -> Consultation:
    """The minutes and decisions of a consultation; a decision addressed to a section is a work
    order (工作指令) with its deadline (kind ``order``), and the section is told."""
    incident = lock(incident)
    row = _consultation(incident, consultation)
    check_record_consultation(incident, actor, row)
    if row.recorded_at is not None:
        raise Conflict(_("该会商的纪要已于 %(at)s 记录。")
                       % {"at": timezone.localtime(row.recorded_at).strftime("%Y-%m-%d %H:%M")})
    now = timezone.now()
    assigned = {s.code: s for s in incident.sections.all()}
    rows = []
    for n, decision in enumerate(decisions, start=1):
        code, due_at = decision.get("section") or None, decision.get("due_at")
        if code and code not in assigned:
            (section,) = sections_by_code([code], field="decisions")
            raise ValidationError({"decisions": _("第 %(n)s 项决定：“%(section)s”不是此事件的责任股室，请先指派。")
                                   % {"n": n, "section": section.name}})
        if code and due_at is None:
            raise ValidationError({"decisions": _("第 %(n)s 项决定：工作指令须写明完成时限。") % {"n": n}})
        if code and due_at <= now:
            raise ValidationError({"decisions": _("第 %(n)s 项决定：完成时限须晚于当前时间。") % {"n": n}})
        rows.append(ConsultationDecision(consultation=row, text=decision["text"], section=assigned.get(code),
                                         due_at=due_at if code else None))
    row.minutes, row.recorded_by, row.recorded_at = minutes, actor, now
    row.save(update_fields=["minutes", "recorded_by", "recorded_at"])
    index_incident(incident, minutes, *(d.text for d in rows))
    record(incident, actor, "consultation_recorded", before=incident.state, consultation=row.pk,
           decisions=len(rows), orders=sum(1 for d in rows if d.section is not None))
    for decision in rows:
        if decision.section is not None:
            decision.deadline = deadlines.on_order(incident, decision.section, decision.due_at)
        decision.save()
        if decision.section is not None:
            record(incident, actor, "order_issued", before=incident.state, consultation=row.pk, order=decision.pk,
                   section=decision.section.code, due_at=decision.due_at, deadline=decision.deadline_id,
                   text=decision.text)
            notices.tell("order_issued", incident=incident, sections=[decision.section], body=decision.text,
                         order=decision.text[:60],
                         due=timezone.localtime(decision.due_at).strftime("%m-%d %H:%M"))
    return row


def check_complete_order(incident, actor, order=None):
    if order is None:
        if not perms.user_section_codes(actor) and not actor.is_superuser:
            raise Forbidden(_("只有承办股室的成员可以办结工作指令。"))
        return
    perms.require_section_member(actor, order.section)


@transaction.atomic
def order_complete(*, incident, actor, order, note) -> ConsultationDecision:
    """The ordered section reports the work order done: its deadline met (late past due)."""
    incident = lock(incident)
    row = (ConsultationDecision.objects.select_for_update(of=("self",)).select_related("section", "deadline")
           .filter(consultation__incident=incident, section__isnull=False, pk=order).first())
    if row is None:
        raise ValidationError({"order": _("此事件没有编号为 %(id)s 的工作指令。") % {"id": order}})
    check_complete_order(incident, actor, row)
    if row.completed_at is not None:
        raise Conflict(_("该工作指令已于 %(at)s 办结。")
                       % {"at": timezone.localtime(row.completed_at).strftime("%Y-%m-%d %H:%M")})
    deadline = row.deadline
    if deadline is not None and deadline.state not in (DeadlineState.OPEN, DeadlineState.MISSED):
        raise Conflict(_("该工作指令的期限已“%(state)s”，不能再办结。") % {"state": deadline.get_state_display()})
    now = timezone.now()
    row.completed_at, row.completed_by, row.note = now, actor, note
    row.save(update_fields=["completed_at", "completed_by", "note"])
    if deadline is not None:
        deadlines.meet(deadline, now, actor)
    index_incident(incident, note)
    record(incident, actor, "order_completed", before=incident.state, order=row.pk, section=row.section.code,
           deadline=deadline.pk if deadline else None, deadline_state=deadline.state if deadline else None,
           note=note)
    notices.tell("order_completed", incident=incident, people=[row.consultation.convened_by], body=note,
                 section=row.section.name, order=row.text[:60])
    return row
