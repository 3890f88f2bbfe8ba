"""Issue, adjust, lift and re-issue warnings (R20–R23); 签收 by the sections."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from deadlines import notices
from deadlines import services as deadlines
from incidents import permissions as perms
from incidents.models import State
from incidents.services import levels_reached, lock
from incidents.timeline import record
from organization.models import ROMAN
from organization.selectors import command_body, sections_by_code
from sentiment_ops.exceptions import Conflict

from .models import EarlyWarning, NoticeReceipt, WarningNotice, WarningState


def _issuing_body() -> str:
    body = command_body()
    return body.name if body else ""


def _copied(notice) -> dict:
    """What a receipt keeps of its notice (its issue time and incident: the notices to sign are
    ordered and probed on the receipts' own rows, early_warnings.models.NoticeReceipt)."""
    return {"issued_at": notice.issued_at, "incident_id": notice.incident_id}


def _send(incident, notice, sections, event="warning_issued"):
    """Deliver a notice to sections: one receipt each to sign, one verification clock each,
    and the notice to their members and group robots."""
    NoticeReceipt.objects.bulk_create([NoticeReceipt(notice=notice, section=s, **_copied(notice)) for s in sections])
    deadlines.on_notice(incident, notice, sections)
    notices.tell(event, incident=incident, sections=sections, body=notice.matters, level=ROMAN[notice.level])


def receipts_on_closed(incident):
    """The incident is closed: its receipts still to sign are no longer asked for."""
    NoticeReceipt.objects.filter(incident=incident).update(incident_closed=True)


def receipts_on_reopened(incident):
    """A closed incident recurs: its receipts still to sign are asked for again."""
    NoticeReceipt.objects.filter(incident=incident, incident_closed=True).update(incident_closed=False)


def send_current_notice(incident, section):
    """A section assigned while a warning is active receives the current notice."""
    warning = EarlyWarning.objects.filter(incident=incident, state=WarningState.ACTIVE).first()
    if warning is None or warning.current_id is None:
        return None
    notice = warning.current
    NoticeReceipt.objects.get_or_create(notice=notice, section=section, defaults=_copied(notice))
    return notice


def check_warn(incident, actor):
    perms.require_command(actor)
    if incident.state in (State.AFTERMATH, State.CLOSED):
        raise Conflict(_("事件处于“%(state)s”状态，不能发布预警；如舆情反复，请先重新启动。")
                       % {"state": incident.get_state_display()})
    warning = getattr(incident, "warning", None)
    if warning is not None and warning.state == WarningState.LIFTED:
        raise Conflict(_("预警已解除；舆情反复时请使用“重新启动”重新发布预警。"))


@transaction.atomic
def warning_issue(*, incident, actor, level, subject, scope, matters, measures, delivery,
                  start_at=None, issuing_body="") -> WarningNotice:
    """Issue a warning, or adjust the active one (raise or lower: a new notice, R22)."""
    incident = lock(incident)
    check_warn(incident, actor)
    warning = EarlyWarning.objects.select_for_update().filter(incident=incident).first()
    before = incident.state
    now = timezone.now()
    kind = WarningNotice.Kind.ADJUST if warning is not None else WarningNotice.Kind.ISSUE
    if warning is None:
        warning = EarlyWarning.objects.create(incident=incident, level=level)
    else:
        if warning.level == level:
            raise ValidationError({"level": _("调整预警须改变级别；当前已是该级别。")})
        warning.adjust()
    notice = WarningNotice.objects.create(
        warning=warning, incident=incident, kind=kind, level=level, subject=subject,
        start_at=start_at or now, scope=scope, matters=matters, measures=measures,
        issuing_body=issuing_body or _issuing_body(), delivery=delivery, issued_by=actor,
    )
    from_level = warning.level
    warning.level, warning.current = level, notice
    warning.save(update_fields=["state", "level", "current"])
    if incident.state in (State.REPORTED, State.JUDGING, State.WATCHING):
        incident.warn()
        incident.save(update_fields=["state"])
    levels_reached(incident, warning=level)
    record(incident, actor, "warning_issued" if kind == WarningNotice.Kind.ISSUE else "warning_adjusted",
           before=before, after=incident.state, level=level,
           from_level=from_level if kind == WarningNotice.Kind.ADJUST else None,
           subject=subject, delivery=delivery, notice=notice.pk)
    _send(incident, notice, list(incident.sections.all()),
          "warning_issued" if kind == WarningNotice.Kind.ISSUE else "warning_adjusted")
    return notice


def check_lift_warning(incident, actor):
    perms.require_command(actor)
    if incident.state == State.CLOSED:
        raise Conflict(_("事件已办结，不能解除预警。"))
    warning = getattr(incident, "warning", None)
    if warning is None or warning.state != WarningState.ACTIVE:
        raise Conflict(_("该事件没有生效中的预警。"))


@transaction.atomic
def warning_lift(*, incident, actor, reason, closing=False) -> WarningNotice:
    """Lift explicitly (R22, R50). Without a response, the incident moves to aftermath.
    ``closing``: lifted as part of closing the incident (lifecycle.services.incident_close):
    recorded, but no receipt to sign nor a notice asking for one — the close notice says it."""
    incident = lock(incident)
    check_lift_warning(incident, actor)
    warning = EarlyWarning.objects.select_for_update().get(incident=incident)
    if not reason:
        raise ValidationError({"reason": _("请填写解除理由。")})
    if incident.state == State.WARNED and incident.response_proposals.filter(decision="pending").exists():
        raise Conflict(_("有待审批的应急响应提议：请先由相应机构审批或驳回，再解除预警。"))
    before = incident.state
    warning.lift()
    current = warning.current
    notice = WarningNotice.objects.create(
        warning=warning, incident=incident, kind=WarningNotice.Kind.LIFT, level=warning.level,
        subject=current.subject, start_at=timezone.now(), scope=current.scope, matters=current.matters,
        measures=current.measures, issuing_body=current.issuing_body, delivery=current.delivery,
        reason=reason, issued_by=actor,
    )
    warning.current = notice
    warning.save(update_fields=["state", "current"])
    if incident.state == State.WARNED:
        incident.settle()
        incident.save(update_fields=["state"])
    record(incident, actor, "warning_lifted", before=before, after=incident.state, reason=reason,
           level=warning.level, notice=notice.pk, closing=closing)
    lapsed = deadlines.on_warning_lifted(incident)
    if lapsed:
        record(incident, actor, "obligations_lapsed", before=incident.state, kind="verification",
               deadlines=lapsed, reason=_("预警已解除，核实报告不再需要。"))
    if closing:
        return notice
    NoticeReceipt.objects.bulk_create([NoticeReceipt(notice=notice, section=s, **_copied(notice))
                                       for s in incident.sections.all()])
    notices.tell("warning_lifted", incident=incident, body=reason, level=ROMAN[warning.level])
    return notice


def warning_reissue(*, incident, actor, reason) -> WarningNotice:
    """Recurrence re-issues the lifted warning with its last fields (called by reopen)."""
    warning = EarlyWarning.objects.select_for_update().get(incident=incident)
    last = warning.notices.exclude(kind=WarningNotice.Kind.LIFT).order_by("-issued_at", "-id").first()
    warning.reissue()
    notice = WarningNotice.objects.create(
        warning=warning, incident=incident, kind=WarningNotice.Kind.REISSUE, level=last.level,
        subject=last.subject, start_at=timezone.now(), scope=last.scope, matters=last.matters,
        measures=last.measures, issuing_body=last.issuing_body, delivery=last.delivery, reason=reason,
        issued_by=actor,
    )
    warning.level, warning.current = last.level, notice
    warning.save(update_fields=["state", "level", "current"])
    record(incident, actor, "warning_reissued", before=incident.state, level=last.level, notice=notice.pk,
           reason=reason)
    _send(incident, notice, list(incident.sections.all()))
    return notice


@transaction.atomic
def notice_sign(*, incident, actor, notice_id, section) -> NoticeReceipt:
    """签收: a member of the section signs for a notice sent to it."""
    incident = lock(incident)
    (section_row,) = sections_by_code([section], field="section")
    perms.require_section_member(actor, section_row)
    receipt = (NoticeReceipt.objects.select_for_update()
               .filter(notice_id=notice_id, notice__incident=incident, section=section_row).first())
    if receipt is None:
        raise ValidationError({"notice": _("该预警通知未发送给“%(section)s”。") % {"section": section_row.name}})
    if receipt.signed_at is not None:
        raise Conflict(_("该预警通知已于 %(at)s 签收。")
                       % {"at": timezone.localtime(receipt.signed_at).strftime("%Y-%m-%d %H:%M")})
    receipt.signed_at, receipt.signed_by = timezone.now(), actor
    receipt.save(update_fields=["signed_at", "signed_by"])
    record(incident, actor, "notice_signed", before=incident.state, notice=receipt.notice_id,
           section=section_row.code)
    return receipt


