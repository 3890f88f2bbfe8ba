"""Every action on an incident (API.md "Actions" and our extensions) in one table: its
payload, who may attempt it at all, when it is available, and the one service it calls.

The JSON API (``POST /api/v1/incidents/{id}/{action}/``) and the browser's forms both run an
action through ``run``: the role check (403), the payload (400), then the service, which locks
the incident and calls the action's ``check`` itself (403/409) before it writes. A page asks
``available`` (the same ``check``, without the payload) to decide which forms to show, so the
pages never keep a second copy of a service's preconditions."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from early_warnings import services as warnings
from incidents import permissions as perms
from incidents import services as records
from responses import services as responses
from sentiment_ops.exceptions import Forbidden, ServiceError

from . import payloads as p
from . import services as lifecycle


def _command(user):
    return perms.is_command(user)


def _body_member(user):
    return bool(perms.body_levels(user))


def _command_or_body(user):
    return _command(user) or _body_member(user)


def anyone_acting(user):
    """Section members, duty officers, the command group: the service checks the rest."""
    return not (perms.is_auditor(user) and not user.is_superuser and not user.sections.exists())


def command_only(incident, user):
    """The check of actions that only the command group takes, in any state."""
    perms.require_command(user)


@dataclass(frozen=True)
class Action:
    name: str
    payload: type
    call: Callable[..., Any]
    may_attempt: Callable
    check: Callable | None = None  # (incident, user, **context) → raises Forbidden/Conflict
    # How the case page presents it (workplace/detail.py): its name for people, the group of
    # the page it belongs to (SECTIONS) and, for the steps that move a case on, their order and
    # the incident states in which they are the next step (none: whenever available). The
    # header offers the available ones and says, in the check's own words, what the first
    # unavailable one of the state still needs. Whether it is available is the check's alone.
    label: str = ""
    section: str = "decisions"
    step: int | None = None
    stages: tuple[str, ...] = ()
    step_context: dict = field(default_factory=dict)  # state → the check's context as a step there

    def refused(self, incident, user, **context) -> ServiceError | None:
        """What refuses ``user`` this action on ``incident`` now (a ``Forbidden``: not theirs;
        a ``Conflict``: not yet, or no longer), or None if they can take it (the service may
        still refuse a particular payload)."""
        try:
            check_may_attempt(self, user)
            if self.check is not None:
                self.check(incident, user, **context)
        except ServiceError as exc:
            return exc
        return None

    def refusal(self, incident, user, **context) -> str | None:
        """Why ``user`` cannot take this action on ``incident`` now, or None if they can."""
        exc = self.refused(incident, user, **context)
        return None if exc is None else str(exc.detail)

    def available(self, incident, user, **context) -> bool:
        return self.refusal(incident, user, **context) is None


def _report_check(incident, user, kind=None):
    responses.check_report(incident, user, kind)


ACTIONS = {a.name: a for a in [
    # API.md
    Action("assign", p.SectionsIn, lambda i, u, d: lifecycle.incident_assign(incident=i, actor=u, **d), _command,
           lifecycle.check_assign),
    Action("judge", p.JudgeIn, lambda i, u, d: lifecycle.incident_judge(incident=i, actor=u, **d), _command,
           lifecycle.check_judge),
    Action("warn", p.WarnIn, lambda i, u, d: warnings.warning_issue(incident=i, actor=u, **d), _command,
           warnings.check_warn),
    Action("lift-warning", p.ReasonIn, lambda i, u, d: warnings.warning_lift(incident=i, actor=u, **d), _command,
           warnings.check_lift_warning),
    Action("propose-response", p.ProposeIn, lambda i, u, d: responses.response_propose(incident=i, actor=u, **d),
           _command, responses.check_propose_response),
    Action("approve-response", p.CommentIn, lambda i, u, d: responses.response_approve(incident=i, actor=u, **d),
           _body_member, responses.check_approve_response),
    Action("reject-response", p.ReasonIn, lambda i, u, d: responses.response_reject(incident=i, actor=u, **d),
           _body_member, responses.check_decide_response),
    Action("assess", p.AssessIn, lambda i, u, d: responses.stability_assess(incident=i, actor=u, **d), _command,
           responses.check_assess),
    Action("propose-lift", p.OptionalReasonIn, lambda i, u, d: responses.lift_propose(incident=i, actor=u, **d),
           _command, responses.check_propose_lift),
    Action("approve-lift", p.CommentIn, lambda i, u, d: responses.lift_approve(incident=i, actor=u, **d),
           _body_member, responses.check_decide_lift),
    Action("report", p.ReportIn, lambda i, u, d: responses.report_submit(incident=i, actor=u, **d), anyone_acting,
           _report_check),
    Action("close", p.CloseIn, lambda i, u, d: lifecycle.incident_close(incident=i, actor=u, **d), _command,
           lifecycle.check_close),
    Action("reopen", p.ReasonIn, lambda i, u, d: lifecycle.incident_reopen(incident=i, actor=u, **d), _command,
           lifecycle.check_reopen),
    # API.md v1.1
    Action("withdraw-proposal", p.ReasonIn, lambda i, u, d: responses.proposal_withdraw(incident=i, actor=u, **d),
           _command, responses.check_withdraw_proposal),
    Action("section-judgment", p.SectionJudgmentIn, lambda i, u, d: lifecycle.incident_section_judge(
        incident=i, actor=u, **d), anyone_acting, lifecycle.check_section_judgment),
    Action("convene", p.ConveneIn, lambda i, u, d: responses.consultation_convene(incident=i, actor=u, **d),
           _command_or_body, responses.check_convene),
    Action("record-consultation", p.RecordConsultationIn, lambda i, u, d: responses.consultation_record(
        incident=i, actor=u, **d), _command_or_body, responses.check_record_consultation),
    Action("complete-order", p.CompleteOrderIn, lambda i, u, d: responses.order_complete(incident=i, actor=u, **d),
           anyone_acting, responses.check_complete_order),
    Action("waive", p.WaiveIn, lambda i, u, d: lifecycle.deadline_waive(incident=i, actor=u, **d), _command,
           lifecycle.check_waive),
    # extensions
    Action("unassign", p.SectionsIn, lambda i, u, d: lifecycle.incident_unassign(incident=i, actor=u, **d),
           _command, lifecycle.check_unassign),
    Action("reject-lift", p.ReasonIn, lambda i, u, d: responses.lift_reject(incident=i, actor=u, **d),
           _body_member, responses.check_decide_lift),
    Action("sign", p.SignIn, lambda i, u, d: warnings.notice_sign(
        incident=i, actor=u, notice_id=d["notice"], section=d["section"]), anyone_acting),
    Action("add-source", p.SourceSerializer, lambda i, u, d: records.source_add(incident=i, actor=u, **d),
           anyone_acting, records.check_add_information),
    Action("record-spread", p.SpreadIn, lambda i, u, d: records.spread_record(incident=i, actor=u, **d),
           anyone_acting, records.check_add_information),
    Action("request-support", p.SupportIn, lambda i, u, d: responses.support_request(incident=i, actor=u, **d),
           _command, responses.check_support_request),
    Action("answer-support", p.SupportAnswerIn, lambda i, u, d: responses.support_answer(
        incident=i, actor=u, request_id=d["request"], answer=d["answer"]), _command, command_only),
    Action("publicity", p.PublicityIn, lambda i, u, d: responses.publicity_start(incident=i, actor=u, **d),
           _command, responses.check_publicity),
    Action("draft-statement", p.StatementDraftIn, lambda i, u, d: responses.statement_draft(
        incident=i, actor=u, **d), anyone_acting, responses.check_draft_statement),
    Action("approve-statement", p.StatementIn, lambda i, u, d: responses.statement_decide(
        incident=i, actor=u, statement_id=d["statement"], approve=True), _command, command_only),
    Action("reject-statement", p.StatementRejectIn, lambda i, u, d: responses.statement_decide(
        incident=i, actor=u, statement_id=d["statement"], approve=False, reason=d["reason"]), _command,
           command_only),
    Action("release-statement", p.StatementIn, lambda i, u, d: responses.statement_release(
        incident=i, actor=u, statement_id=d["statement"]), _command, command_only),
]}

# The case page's groups, in page order (an action's ``section``).
SECTIONS = {"record": _l("记录"), "decisions": _l("决策"), "documents": _l("报告与文书")}

# label, section, step of the actions above (an action added with its own ``label``/``section``
# keeps them).
PRE = ("reported", "watching")
PRESENTATION = {
    "assign": (_l("指派责任股室"), "record", None, ()),
    "unassign": (_l("撤销责任股室"), "record", None, ()),
    "add-source": (_l("补充信息来源"), "record", None, ()),
    "record-spread": (_l("记录传播数据"), "record", None, ()),
    "sign": (_l("签收预警通知"), "decisions", None, ()),
    "judge": (_l("研判"), "decisions", 10, PRE),
    "warn": (_l("发布预警"), "decisions", 20, ("judging", "watching")),
    "lift-warning": (_l("解除预警"), "decisions", None, ()),
    "propose-response": (_l("提议启动应急响应"), "decisions", 30, ("judging", "warned")),
    "withdraw-proposal": (_l("撤回响应提议"), "decisions", None, ()),
    "approve-response": (_l("批准应急响应"), "decisions", 5, ()),
    "reject-response": (_l("驳回应急响应提议"), "decisions", None, ()),
    "assess": (_l("研判当日是否平稳"), "decisions", 40, ("responding",)),
    "propose-lift": (_l("提议解除应急响应"), "decisions", 50, ("responding",)),
    "approve-lift": (_l("批准解除应急响应"), "decisions", 6, ()),
    "reject-lift": (_l("驳回解除提议"), "decisions", None, ()),
    "request-support": (_l("请求扩大应急响应"), "decisions", None, ()),
    "answer-support": (_l("记录支援答复"), "decisions", None, ()),
    "publicity": (_l("开展宣传引导"), "decisions", None, ()),
    "report": (_l("提交报告"), "documents", 60, ("warned", "responding", "aftermath")),
    "draft-statement": (_l("起草口径或声明"), "documents", None, ()),
    "approve-statement": (_l("审定口径或声明"), "documents", None, ()),
    "reject-statement": (_l("退回口径或声明"), "documents", None, ()),
    "release-statement": (_l("发布口径或声明"), "documents", None, ()),
    "section-judgment": (_l("股室研判"), "decisions", None, ()),
    "convene": (_l("召集会商"), "decisions", None, ()),
    "record-consultation": (_l("记录会商纪要和决定"), "decisions", None, ()),
    "complete-order": (_l("报告工作指令完成"), "decisions", None, ()),
    "waive": (_l("豁免期限"), "decisions", None, ()),
    "close": (_l("办结"), "decisions", 70, ("watching", "aftermath")),
    "reopen": (_l("舆情反复，重新启动"), "decisions", 80, ("closed",)),
}
# As a step, a report is the sections' verification under a warning, their status report while
# the response runs, and the command group's summary report in the aftermath.
STEP_CONTEXT = {"report": {"warned": {"kind": "verification"}, "responding": {"kind": "status"},
                           "aftermath": {"kind": "summary"}}}
ACTIONS = {name: replace(action, step_context=STEP_CONTEXT[name]) if name in STEP_CONTEXT else action
           for name, action in ACTIONS.items()}
ACTIONS = {name: action if action.label or name not in PRESENTATION else
           replace(action, **dict(zip(("label", "section", "step", "stages"), PRESENTATION[name], strict=True)))
           for name, action in ACTIONS.items()}

# Multipart, so not a JSON action route: POST /incidents/{id}/attachments/ and the page's form.
ATTACH = Action("attach", p.AttachmentIn, lambda i, u, d: records.attachment_add(
    incident=i, actor=u, upload=d["file"], note=d["note"]), anyone_acting, records.check_add_information,
    label=_l("上传附件"), section="record")


def check_may_attempt(action: Action, user):
    if not action.may_attempt(user):
        raise Forbidden(_("您的角色不能执行“%(action)s”。") % {"action": action.name})


def run(action: Action, incident, user, data) -> Any:
    """The one path of an action: the role (403), the payload (400, DRF's ValidationError),
    then the action's service, which checks the rest (403/409) under the incident's lock."""
    check_may_attempt(action, user)
    payload = action.payload(data=data)
    payload.is_valid(raise_exception=True)
    return action.call(incident, user, dict(payload.validated_data))
