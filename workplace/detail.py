"""The incident detail page: everything its panels show, and which action forms the user
sees. A form is shown when its action is ``available`` (lifecycle/actions.py): the role
and the very check its service runs, so the page keeps no copy of a service's rules. The
service still decides on the payload, so a stale page gets an error message, never a 500."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from deadlines.models import DeadlineState
from deadlines.policy import LOOSE_ENDS
from early_warnings.models import Delivery, Level, WarningNotice, WarningState
from incidents import permissions as perms
from incidents.models import Channel, Judgment, Platform, Severity, State, Veracity
from lifecycle.actions import ACTIONS, ATTACH
from lifecycle.selectors import deadlines_of, timeline_of
from organization.models import LevelPolicy, Section, User
from organization.selectors import command_body, people_choices
from responses.models import (
    PublicityTier,
    ReportKind,
    ResponseProposal,
    ResponseState,
    Statement,
    StatementState,
)
from responses.services import lift_eligible

from .forms import Forms
from .labels import ROMAN, describe, verb_label

# Which panel each action belongs to: the part of the page re-rendered with its errors.
PANEL_OF = {
    "assign": "sections", "unassign": "sections",
    "judge": "judgment", "section-judgment": "judgment",
    "warn": "warning", "lift-warning": "warning", "sign": "warning",
    "propose-response": "response", "approve-response": "response", "reject-response": "response",
    "assess": "response", "propose-lift": "response", "approve-lift": "response", "reject-lift": "response",
    "report": "reports",
    "add-source": "sources", "record-spread": "spread",
    "request-support": "support", "answer-support": "support", "publicity": "support",
    "draft-statement": "statements", "approve-statement": "statements", "reject-statement": "statements",
    "release-statement": "statements",
    "close": "lifecycle", "reopen": "lifecycle", "waive": "lifecycle",
    "convene": "consultations", "record-consultation": "consultations", "complete-order": "consultations",
    "attach": "attachments",
}
PANELS = sorted(set(PANEL_OF.values()) | {"overview", "deadlines", "timeline"})

# The outside departments a consultation usually invites (R35; others are typed in).
OUTSIDE = [_l("市网信办"), _l("公安"), _l("信访")]

COMMAND_REPORTS = [ReportKind.FLASH, ReportKind.FEEDBACK, ReportKind.BRIEFING, ReportKind.JUDGMENT]


def choices():
    return {
        "channel": Channel.choices, "platform": Platform.choices, "veracity": Veracity.choices,
        "severity": Severity.choices, "mode": Judgment.Mode.choices, "level": Level.choices,
        "delivery": Delivery.choices, "tier": PublicityTier.choices, "statement_kind": Statement.Kind.choices,
        "command_reports": [(k.value, k.label) for k in COMMAND_REPORTS],
        "response_level": [(v, _("%(level)s级响应") % {"level": ROMAN[v]}) for v in (1, 2, 3, 4)],
        "stable": [("true", _("平稳")), ("false", _("不平稳"))],
    }


def participant_choices():
    """Who can take part in a joint judgment: the active users, by username."""
    return [(u.username, f"{u.full_name or u.username}（{u.username}）")
            for u in User.objects.filter(is_active=True).order_by("username")[:200]]


def build(request, incident, forms: Forms | None = None) -> dict:
    user = request.user
    forms = forms if forms is not None else Forms()
    now = timezone.now()
    state = incident.state
    sections = list(incident.sections.all())
    codes = {s.code for s in sections}
    visible = perms.can_see_content(user, incident, codes)
    command = perms.is_command(user)
    levels = perms.body_levels(user)
    mine = perms.user_section_codes(user)
    my_sections = [s for s in sections if s.code in mine]
    open_ = state != State.CLOSED
    all_sections = list(Section.objects.order_by("order", "code"))
    section_names = {s.code: s.name for s in all_sections}

    # --- warning ---------------------------------------------------------------------
    warning = getattr(incident, "warning", None)
    notices = list(WarningNotice.objects.filter(incident=incident).select_related("issued_by")
                   .prefetch_related("receipts__section", "receipts__signed_by").order_by("-issued_at", "-id"))
    current = warning.current if warning is not None and warning.current_id else None
    warning_active = warning is not None and warning.state == WarningState.ACTIVE
    to_sign = [r for n in notices for r in n.receipts.all()
               if r.signed_at is None and r.section.code in mine and open_]

    # --- response --------------------------------------------------------------------
    response = getattr(incident, "response", None)
    proposal = response.proposal if response is not None and response.proposal_id else None
    running = response is not None and response.state in (ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED)
    policy = LevelPolicy.for_level(response.level) if response and response.level else None
    needed_days = policy.stable_working_days if policy else None
    proposals = list(ResponseProposal.objects.filter(incident=incident)
                     .select_related("proposed_by", "decided_by").order_by("-proposed_at", "-id"))
    assessments = list(incident.assessments.select_related("assessed_by").order_by("-date"))

    # --- the rest of the record --------------------------------------------------------
    every_judgment = sorted(incident.judgments.all(), key=lambda j: (j.judged_at, j.pk), reverse=True)
    judgments = [j for j in every_judgment if j.section_id is None]  # the command group's (R13)
    section_judgments = [j for j in every_judgment if j.section_id is not None]
    instructions = list(incident.instructions.all())
    reports = list(incident.reports.select_related("section", "owner_body", "author").order_by("-submitted_at", "-id"))
    statements = list(incident.statements.select_related("section", "drafted_by", "decided_by")
                      .order_by("-drafted_at", "-id"))
    for statement in statements:
        statement.reject_form = forms[f"reject_statement_{statement.pk}"]
    supports = list(incident.support_requests.select_related("requested_by", "answer_recorded_by"))
    for req in supports:
        req.answer_form = forms[f"answer_support_{req.pk}"]
    publicity = list(incident.publicity.select_related("started_by"))
    attachments = list(incident.attachments.all())
    spread = list(incident.spread.select_related("recorded_by").order_by("-recorded_at", "-id"))
    deadlines = sorted(deadlines_of(incident), key=lambda d: (d.state not in (DeadlineState.OPEN,
                                                                               DeadlineState.MISSED), d.due_at))
    timeline = [{"event": e, "label": verb_label(e.verb), "pairs": describe(e, section_names) if visible else []}
                for e in timeline_of(incident)]
    pending_kinds = {(d.kind, d.owner_section.code if d.owner_section_id else None) for d in deadlines
                     if d.state in (DeadlineState.OPEN, DeadlineState.MISSED)}

    # --- who may do what, now: the actions' own checks ------------------------------
    def available(name, **context):
        return ACTIONS[name].available(incident, user, **context)

    can = {
        "add_info": available("add-source"),
        "assign": available("assign"),
        "judge": available("judge"),
        "warn": available("warn"),
        "lift_warning": available("lift-warning"),
        "propose_response": available("propose-response"),
        "decide_response": available("reject-response"),
        "section_judgment": available("section-judgment"),
        "assess": available("assess"),
        "propose_lift": available("propose-lift"),
        "decide_lift": available("approve-lift"),
        "section_report": available("report", kind=ReportKind.VERIFICATION),
        "status_report": available("report", kind=ReportKind.STATUS),
        # a verification report is offered where there is something to verify
        "verification_report": available("report", kind=ReportKind.VERIFICATION) and (
            warning is not None or any(k == "verification" for k, _s in pending_kinds)),
        "command_report": available("report", kind=ReportKind.FLASH),
        "support": available("request-support"),
        "answer_support": available("answer-support"),
        "publicity": available("publicity"),
        "draft_statement": available("draft-statement"),
        "decide_statement": available("approve-statement"),
        "close": available("close"),
        "waive": available("waive"),
        "convene": available("convene"),
        "complete_order": bool(mine) and open_,
        "reopen": available("reopen"),
        "upload": ATTACH.available(incident, user),
    }
    can["any_command"] = command

    # --- consultations and work orders (R35), prefetched with the incident ------------------
    consultations = list(incident.consultations.all())
    record_consultation = ACTIONS["record-consultation"]
    for c in consultations:
        c.record_form = forms[f"record_consultation_{c.pk}"]
        c.may_record = c.recorded_at is None and open_ and record_consultation.available(incident, user, consultation=c)
        c.decision_rows = [{f: f"decisions-{i}-{f}" for f in ("text", "section", "due_at")} for i in range(3)]
        for d in c.decisions.all():
            d.complete_form = forms[f"complete_order_{d.pk}"]
            d.may_complete = (can["complete_order"] and d.section_id is not None and d.completed_at is None
                              and d.section.code in mine and d.deadline_id is not None
                              and d.deadline.state in (DeadlineState.OPEN, DeadlineState.MISSED))
    loose_ends = [d for d in deadlines if d.kind in LOOSE_ENDS and d.state == DeadlineState.OPEN]
    for d in loose_ends:
        d.waive_form = forms[f"waive_{d.pk}"]

    # Initial values: the warn form adjusts from the current notice, judgment from the last.
    last_judgment = judgments[0] if judgments else None
    if current is not None and warning_active:
        forms["adjust"].initial = {"subject": current.subject, "scope": current.scope, "matters": current.matters,
                                   "measures": current.measures, "delivery": current.delivery,
                                   "issuing_body": current.issuing_body}
    issuer = command_body() if can["warn"] else None
    forms["warn"].initial = {
        "subject": incident.title if visible else "", "delivery": "system",
        "level": last_judgment.recommended_warning_level if last_judgment else "",
        "issuing_body": issuer.name if issuer else "",
    }
    forms["judge"].initial = {"veracity": incident.veracity, "severity": incident.severity, "mode": "joint",
                              "recommended_warning_level": last_judgment.recommended_warning_level if last_judgment else "",
                              "recommended_response_level": last_judgment.recommended_response_level if last_judgment else ""}
    forms["propose_response"].initial = {
        "level": last_judgment.recommended_response_level if last_judgment else ""}
    forms["assess"].initial = {"date": timezone.localdate().isoformat(), "stable": "true"}
    forms["record_spread"].initial = {"recorded_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")}

    return {
        "incident": incident,
        "title": incident.title if visible else _("【涉密】舆情事件 #%(id)s") % {"id": incident.pk},
        "visible": visible,
        "now": now,
        "sections": sections,
        "my_sections": my_sections,
        "unassigned_sections": [s for s in all_sections if s.code not in codes],
        "unassigned_choices": [(s.code, s.name) for s in all_sections if s.code not in codes],
        "warning": warning,
        "warning_active": warning_active,
        "current_notice": current,
        "notices": notices,
        "to_sign": to_sign,
        "response": response,
        "proposal": proposal,
        "running": running,
        "needed_days": needed_days,
        "lift_eligible": lift_eligible(response, policy) if policy is not None else False,
        "days_left": max(0, (needed_days or 0) - (response.stable_working_days if response else 0)),
        "proposals": proposals,
        "assessments": assessments,
        "judgments": judgments,
        "section_judgments": section_judgments,
        "instructions": instructions,
        "approve_response_refusal": ACTIONS["approve-response"].refusal(incident, user) if proposal else None,
        "my_section_codes": mine,
        "participant_choices": participant_choices() if can["section_judgment"] else [],
        "last_judgment": last_judgment,
        "reports": reports,
        "statements": statements,
        "draft_statements": [s for s in statements if s.state == StatementState.DRAFT],
        "supports": supports,
        "publicity": publicity,
        "attachments": attachments,
        "spread": spread,
        "deadlines": deadlines,
        "timeline": timeline,
        "timeline_count": incident.timeline_count,
        "consultations": consultations,
        "section_choices_assigned": [(s.code, s.name) for s in sections],
        "loose_ends": loose_ends if state in (State.WATCHING, State.WARNED, State.AFTERMATH) else [],
        "people_choices": people_choices() if can["convene"] else [],
        "outside_choices": [(str(name), str(name)) for name in OUTSIDE],  # recorded as named
        "can": can,
        "levels": levels,
        "forms": forms,
        "choices": choices(),
        "my_section_choices": [(s.code, s.name) for s in my_sections],
        "section_choices": [(s.code, s.name) for s in all_sections],
        "summary_parts": [("characteristics", _("舆情发展特点")), ("measures_effect", _("应对措施及效果")),
                          ("experience", _("取得的经验")), ("problems", _("存在的问题")),
                          ("recommendations", _("对策建议"))],
    }
