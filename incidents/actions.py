"""Every action on an incident (API.md "Actions" and our extensions) in one table: its
payload, who may attempt it at all, and the one service it calls. The API's
``POST /incidents/{id}/{action}/`` and the browser's forms both run through ``run``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from early_warnings import services as warnings
from responses import services as responses
from sentiment_ops.exceptions import Forbidden

from . import permissions as perms
from . import services as incidents
from .api import serializers as s


def _command(user):
    return perms.is_command(user)


def _body_member(user):
    return bool(perms.body_levels(user))


def anyone_acting(user):
    """Section members, duty officers, the command group: the service checks the rest."""
    return not (perms.is_auditor(user) and not user.is_superuser and not user.sections.exists())


@dataclass(frozen=True)
class Action:
    name: str
    payload: type
    call: Callable[..., Any]
    may_attempt: Callable
    label: str = ""


ACTIONS = {a.name: a for a in [
    # API.md
    Action("assign", s.SectionsIn, lambda i, u, d: incidents.incident_assign(incident=i, actor=u, **d), _command),
    Action("judge", s.JudgeIn, lambda i, u, d: incidents.incident_judge(incident=i, actor=u, **d), _command),
    Action("warn", s.WarnIn, lambda i, u, d: warnings.warning_issue(incident=i, actor=u, **d), _command),
    Action("lift-warning", s.ReasonIn, lambda i, u, d: warnings.warning_lift(incident=i, actor=u, **d), _command),
    Action("propose-response", s.ProposeIn, lambda i, u, d: responses.response_propose(incident=i, actor=u, **d), _command),
    Action("approve-response", s.EmptyIn, lambda i, u, d: responses.response_approve(incident=i, actor=u), _body_member),
    Action("reject-response", s.ReasonIn, lambda i, u, d: responses.response_reject(incident=i, actor=u, **d), _body_member),
    Action("assess", s.AssessIn, lambda i, u, d: responses.stability_assess(incident=i, actor=u, **d), _command),
    Action("propose-lift", s.OptionalReasonIn, lambda i, u, d: responses.lift_propose(incident=i, actor=u, **d), _command),
    Action("approve-lift", s.EmptyIn, lambda i, u, d: responses.lift_approve(incident=i, actor=u), _body_member),
    Action("report", s.ReportIn, lambda i, u, d: responses.report_submit(incident=i, actor=u, **d), anyone_acting),
    Action("close", s.EmptyIn, lambda i, u, d: incidents.incident_close(incident=i, actor=u), _command),
    Action("reopen", s.ReasonIn, lambda i, u, d: incidents.incident_reopen(incident=i, actor=u, **d), _command),
    # extensions
    Action("unassign", s.SectionsIn, lambda i, u, d: incidents.incident_unassign(incident=i, actor=u, **d), _command),
    Action("reject-lift", s.ReasonIn, lambda i, u, d: responses.lift_reject(incident=i, actor=u, **d), _body_member),
    Action("sign", s.SignIn, lambda i, u, d: warnings.notice_sign(
        incident=i, actor=u, notice_id=d["notice"], section=d["section"]), anyone_acting),
    Action("add-source", s.SourceSerializer, lambda i, u, d: incidents.source_add(incident=i, actor=u, **d), anyone_acting),
    Action("record-spread", s.SpreadIn, lambda i, u, d: incidents.spread_record(incident=i, actor=u, **d), anyone_acting),
    Action("request-support", s.SupportIn, lambda i, u, d: responses.support_request(incident=i, actor=u, **d), _command),
    Action("answer-support", s.SupportAnswerIn, lambda i, u, d: responses.support_answer(
        incident=i, actor=u, request_id=d["request"], answer=d["answer"]), _command),
    Action("publicity", s.PublicityIn, lambda i, u, d: responses.publicity_start(incident=i, actor=u, **d), _command),
    Action("draft-statement", s.StatementDraftIn, lambda i, u, d: responses.statement_draft(incident=i, actor=u, **d),
           anyone_acting),
    Action("approve-statement", s.StatementIn, lambda i, u, d: responses.statement_decide(
        incident=i, actor=u, statement_id=d["statement"], approve=True), _command),
    Action("reject-statement", s.StatementRejectIn, lambda i, u, d: responses.statement_decide(
        incident=i, actor=u, statement_id=d["statement"], approve=False, reason=d["reason"]), _command),
    Action("release-statement", s.StatementIn, lambda i, u, d: responses.statement_release(
        incident=i, actor=u, statement_id=d["statement"]), _command),
]}

# Multipart, so not a JSON action route: POST /incidents/{id}/attachments/ and the page's form.
ATTACH = Action("attach", s.AttachmentIn, lambda i, u, d: incidents.attachment_add(
    incident=i, actor=u, upload=d["file"], note=d["note"]), anyone_acting)


def check_may_attempt(action: Action, user):
    if not action.may_attempt(user):
        raise Forbidden(_("您的角色不能执行“%(action)s”。") % {"action": action.name})


def run(action: Action, incident, user, data: dict):
    """Validated payload → the action's one service. Raises the service's errors."""
    check_may_attempt(action, user)
    return action.call(incident, user, data)
