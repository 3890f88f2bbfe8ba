"""The incident page as a case file: a header with the case's state, its levels and the next
steps for this user; what is owed now; then the record, the decisions, the reports and
documents, and the timeline, each panel one line when empty.

Which forms the user sees, and what the header offers, come from the action registry
(lifecycle/actions.py): a form is shown when its action is ``available`` (the role and the
very check its service runs), and a step that is not available yet says why in the
service's own words (``Action.refusal``), so the page keeps no copy of a service's rules.
An action no panel has a form for is rendered from its payload serializer in its group
(``generic_actions``). The service still decides on the payload, so a stale page gets an
error message, never a 500.

The page reads a fixed number of queries (lifecycle.selectors.case_queryset): the panels'
lists are counted on the incident's row and read only when their panel is opened or
re-rendered after an action in it (``full``)."""

import functools

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from deadlines.models import DeadlineState
from deadlines.policy import is_loose_end
from early_warnings.models import Delivery, Level, WarningState
from incidents import permissions as perms
from incidents.models import Channel, Judgment, Platform, Severity, State, Veracity
from lifecycle.actions import ACTIONS, ATTACH, SECTIONS
from lifecycle.selectors import (
    CASE_LISTS,
    case_consultations,
    case_list,
    case_receipts,
    timeline_of,
)
from organization.models import Section
from organization.selectors import people_choices
from responses.models import PublicityTier, ReportKind, ResponseState, Statement
from sentiment_ops import prepared
from sentiment_ops.exceptions import Conflict

from .forms import Forms
from .labels import ROMAN, describe, verb_label
from .rows import timeline_html

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
PANELS = sorted(set(PANEL_OF.values()) | {"overview", "deadlines", "deadline_history", "timeline"})
NEXT_STEPS = 2

# The outside departments a consultation usually invites (R35; others are typed in).
OUTSIDE = [_l("市网信办"), _l("公安"), _l("信访")]

COMMAND_REPORTS = [ReportKind.FLASH, ReportKind.FEEDBACK, ReportKind.BRIEFING, ReportKind.JUDGMENT]


def choices():
    """The forms' choices, their labels translated: made once per language (a select's every
    label was a translation lookup on every page)."""
    return _choices(get_language())


@functools.cache
def _choices(language):
    def labelled(pairs):
        return [(value, str(label)) for value, label in pairs]

    return {
        "channel": labelled(Channel.choices), "platform": labelled(Platform.choices),
        "veracity": labelled(Veracity.choices), "severity": labelled(Severity.choices),
        "mode": labelled(Judgment.Mode.choices), "level": labelled(Level.choices),
        "delivery": labelled(Delivery.choices), "tier": labelled(PublicityTier.choices),
        "statement_kind": labelled(Statement.Kind.choices),
        "command_reports": [(k.value, str(k.label)) for k in COMMAND_REPORTS],
        "response_level": [(v, _("%(level)s级响应") % {"level": ROMAN[v]}) for v in (1, 2, 3, 4)],
        "stable": [("true", _("平稳")), ("false", _("不平稳"))],
        "outside": [(str(name), str(name)) for name in OUTSIDE],  # recorded as named
    }



def timeline_items(events, section_names: dict, visible: bool) -> list[dict]:
    """Timeline events as the page shows them: the verb's label and, to readers of the
    content, its details in words (the case page's latest and the older pages alike)."""
    return [{"event": e, "label": verb_label(e.verb), "pairs": describe(e, section_names) if visible else []}
            for e in events]


class _lazy:  # noqa: N801  (a function's name where it is used)
    """A list read once, and only if a template asks for it (the template calls it; a
    ``functools.cache`` of a partial cost its wrapper's copying of attributes a partial lacks)."""

    __slots__ = ("load", "value")
    _UNREAD = object()

    def __init__(self, load):
        self.load, self.value = load, self._UNREAD

    def __call__(self):
        if self.value is self._UNREAD:
            self.value = self.load()
        return self.value


def next_steps(incident, user, actions) -> dict:
    """The header's advice from the registry alone: the steps of the incident's state (or of
    any state) that this user can take now, at most ``NEXT_STEPS``, and the first step of its
    state that is not available yet, with why (the check's own message, e.g. 办结前须提交舆情
    分析专题报告). Steps the user's role can never take are left out."""
    steps = sorted((a for a in actions.values() if a.step is not None and a.may_attempt(user)
                    and (not a.stages or incident.state in a.stages)), key=lambda a: a.step)
    refused = {a.name: a.refused(incident, user, **a.step_context.get(incident.state, {})) for a in steps}
    available = [a for a in steps if refused[a.name] is None]
    # not yet (a Conflict) — never "not yours" (a Forbidden): that is no step of this user's
    blocked = [{"action": a, "why": str(refused[a.name].detail)} for a in steps
               if isinstance(refused[a.name], Conflict) and a.stages]
    return {"now": available[:NEXT_STEPS], "blocked": blocked[:1]}


def generic_actions(incident, user, can_names) -> dict[str, list]:
    """Available actions that no panel has a form for (added to the registry later), by
    group: the page renders their forms from their payload serializers."""
    out: dict[str, list] = {name: [] for name in SECTIONS}
    for action in ACTIONS.values():
        if action.name in PANEL_OF or action.name in can_names:
            continue
        if action.available(incident, user):
            out.setdefault(action.section, []).append(action)
    return out


def build(request, incident, forms: Forms | None = None, full=()) -> dict:
    """The case page's context. ``full``: the panels whose lists are read and shown (a panel
    opened, or re-rendered after an action in it); the others show their counts."""
    user = request.user
    forms = forms if forms is not None else Forms()
    full = set(full)
    now = timezone.now()
    state = incident.state
    all_sections = prepared.rows(("workplace.detail.sections",), lambda _now: Section.objects.order_by("order", "code"))
    codes = {s.code for s in incident.sections.all()}
    sections = [s for s in all_sections if s.code in codes]
    visible = perms.can_see_content(user, incident, codes)
    command = perms.is_command(user)
    levels = perms.body_levels(user)
    mine = perms.user_section_codes(user)
    my_sections = [s for s in sections if s.code in mine]
    open_ = state != State.CLOSED
    section_names = {s.code: s.name for s in all_sections}

    # --- warning ---------------------------------------------------------------------
    warning = getattr(incident, "warning", None)
    current = warning.current if warning is not None and warning.current_id else None
    warning_active = warning is not None and warning.state == WarningState.ACTIVE
    receipts = case_receipts(incident) if warning is not None else []
    current_receipts = [r for r in receipts if current is not None and r.notice_id == current.pk]
    to_sign = [r for r in receipts if r.signed_at is None and r.section.code in mine and open_]

    def notices():
        rows = case_list(incident, "notices")
        for notice in rows:
            notice.receipt_rows = [r for r in receipts if r.notice_id == notice.pk]
        return rows

    # --- response --------------------------------------------------------------------
    response = getattr(incident, "response", None)
    proposal = response.proposal if response is not None and response.proposal_id else None
    pending = proposal if proposal is not None and proposal.decision == "pending" else None
    running = response is not None and response.state in (ResponseState.ACTIVE, ResponseState.LIFT_PROPOSED)
    # the level's stable days, its policy's or the seeded default (organization.selectors.stable_days_target)
    needed_days = incident.policy_stable_days if response is not None and response.level else None
    lift_ok = running and needed_days is not None and response.stable_working_days >= needed_days

    # --- the rest of the record: read only where shown --------------------------------
    def statements():
        rows = case_list(incident, "statements")
        for statement in rows:
            statement.reject_form = forms[f"reject_statement_{statement.pk}"]
        return rows

    def supports():
        rows = case_list(incident, "supports")
        for req in rows:
            req.answer_form = forms[f"answer_support_{req.pk}"]
        return rows

    lists = {name: _lazy(functools.partial(case_list, incident, name)) for name in CASE_LISTS}
    def consultations():
        rows = case_consultations(incident)
        record_consultation = ACTIONS["record-consultation"]
        for c in rows:
            c.record_form = forms[f"record_consultation_{c.pk}"]
            c.may_record = (c.recorded_at is None and open_
                            and record_consultation.available(incident, user, consultation=c))
            c.decision_rows = [{f: f"decisions-{i}-{f}" for f in ("text", "section", "due_at")} for i in range(3)]
            for d in c.decisions.all():
                d.complete_form = forms[f"complete_order_{d.pk}"]
                d.may_complete = (bool(mine) and open_ and d.section_id is not None and d.completed_at is None
                                  and d.section.code in mine and d.deadline_id is not None
                                  and d.deadline.state in (DeadlineState.OPEN, DeadlineState.MISSED))
        return rows

    lists.update(notices=_lazy(notices), statements=_lazy(statements), supports=_lazy(supports),
                 consultations=_lazy(consultations))
    counts = {name: getattr(incident, f"{name}_count") for name in CASE_LISTS}
    judgments = incident.latest_judgments
    owed = incident.owed_deadlines
    # The consultations panel opens by itself where this user has something to do in it: a work
    # order their section owes, or a consultation whose minutes are still to be recorded.
    if (any(d.kind == "order" and d.owner_section_id and d.owner_section.code in mine for d in owed)
            or (counts["unrecorded_consultations"] and (command or levels) and open_)):
        full.add("consultations")
    timeline = timeline_items(timeline_of(incident), section_names, visible)
    pending_kinds = {d.kind for d in owed}

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
        "status_report": available("report", kind=ReportKind.STATUS),
        # a verification report is offered where there is something to verify
        "verification_report": available("report", kind=ReportKind.VERIFICATION) and (
            warning is not None or "verification" in pending_kinds),
        "command_report": available("report", kind=ReportKind.FLASH),
        "support": available("request-support"),
        "answer_support": command,
        "publicity": available("publicity"),
        "draft_statement": available("draft-statement"),
        "decide_statement": command,
        "close": available("close"),
        "waive": available("waive"),
        "convene": available("convene"),
        "complete_order": bool(mine) and open_,
        "reopen": available("reopen"),
        "upload": ATTACH.available(incident, user),
    }
    can["any_command"] = command
    steps = next_steps(incident, user, ACTIONS)
    for action in steps["now"]:
        steps.setdefault("panels", {})[action.name] = PANEL_OF.get(action.name, f"more-{action.section}")

    people = _lazy(people_choices)  # who may take part (a joint judgment, a consultation)

    # --- closing: the loose ends the command group may waive (R50) ----------------------
    loose_ends = [d for d in owed if is_loose_end(d)]
    for d in loose_ends:
        d.waive_form = forms[f"waive_{d.pk}"]

    # Initial values: the warn form adjusts from the current notice, judgment from the last.
    last_judgment = judgments[0] if judgments else None
    if current is not None and warning_active:
        forms["adjust"].initial = {"subject": current.subject, "scope": current.scope, "matters": current.matters,
                                   "measures": current.measures, "delivery": current.delivery,
                                   "issuing_body": current.issuing_body}
    forms["warn"].initial = {
        "subject": incident.title if visible else "", "delivery": "system",
        "level": last_judgment.recommended_warning_level if last_judgment else "",
        "issuing_body": incident.command_body_name or "",
    }
    forms["judge"].initial = {"veracity": incident.veracity, "severity": incident.severity, "mode": "joint",
                              "recommended_warning_level": last_judgment.recommended_warning_level if last_judgment else "",
                              "recommended_response_level": last_judgment.recommended_response_level if last_judgment else ""}
    forms["propose_response"].initial = {
        "level": last_judgment.recommended_response_level if last_judgment else ""}
    forms["assess"].initial = {"date": timezone.localdate().isoformat(), "stable": "true"}
    forms["record_spread"].initial = {"recorded_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M")}

    handled = set(PANEL_OF) | {"attach"}
    return {
        "incident": incident,
        "title": perms.shown_title(incident.title, visible, incident.pk),
        "visible": visible,
        "now": now,
        "full": full,
        "counts": counts,
        "sections": sections,
        "my_sections": my_sections,
        "unassigned_sections": [s for s in all_sections if s.code not in codes],
        "unassigned_choices": [(s.code, s.name) for s in all_sections if s.code not in codes],
        "warning": warning,
        "warning_active": warning_active,
        "current_notice": current,
        "current_receipts": current_receipts,
        "notices": lists["notices"],
        "to_sign": to_sign,
        "response": response,
        "proposal": pending,
        "running": running,
        "needed_days": needed_days,
        "lift_eligible": lift_ok,
        "days_left": max(0, (needed_days or 0) - (response.stable_working_days if response else 0)),
        "proposals": lists["proposals"],
        "assessments": lists["assessments"],
        "judgments": lists["judgments"],
        "section_judgments": lists["section_judgments"],
        "instructions": lists["instructions"],
        "approve_response_refusal": ACTIONS["approve-response"].refusal(incident, user) if pending else None,
        "my_section_codes": mine,
        "participant_choices": people,
        "last_judgment": last_judgment,
        "reports": lists["reports"],
        "statements": lists["statements"],
        "supports": lists["supports"],
        "publicity": lists["publicity"],
        "sources": lists["sources"],
        "attachments": lists["attachments"],
        "spread": lists["spread"],
        "deadline_history": lists["deadlines"],
        "deadlines": owed,
        "timeline": timeline,
        "timeline_html": timeline_html(timeline[::-1], visible),
        "timeline_count": incident.timeline_count,
        "consultations": lists["consultations"],
        "section_choices_assigned": [(s.code, s.name) for s in sections],
        "loose_ends": loose_ends if state in (State.WATCHING, State.WARNED, State.AFTERMATH) else [],
        "people_choices": people,
        "outside_choices": choices()["outside"],  # recorded as named
        "can": can,
        "steps": steps,
        "generic": generic_actions(incident, user, handled),
        "groups": SECTIONS,
        "levels": levels,
        "forms": forms,
        "choices": choices(),
        "my_section_choices": [(s.code, s.name) for s in my_sections],
        "section_choices": [(s.code, s.name) for s in all_sections],
        "summary_parts": [("characteristics", _("舆情发展特点")), ("measures_effect", _("应对措施及效果")),
                          ("experience", _("取得的经验")), ("problems", _("存在的问题")),
                          ("recommendations", _("对策建议"))],
    }
