"""Creating, meeting and cancelling deadline rows: called by the lifecycle services inside
their transactions (one call per event), never on their own. Due times: deadlines/policy.py."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.timeline import record
from organization.models import Body, LevelPolicy, Role, UnitPolicy, User
from organization.selectors import office_section

from . import policy
from .models import RESPONSE_KINDS, Deadline, DeadlineState, Delivery, Kind
from .selectors import governing_levels, response_level
from .sweep import schedule


def _body(code: str) -> Body:
    return Body.objects.get(code=code)


def _create(incident, kind, *, section=None, body=None, due_at, hard_due_at=None, **extra) -> Deadline:
    deadline = Deadline(incident=incident, kind=kind, owner_section=section, owner_body=body,
                        due_at=due_at, hard_due_at=hard_due_at, created_at=timezone.now(), **extra)
    schedule(deadline, exempt=_exempt_from_quiet_hours(incident))
    deadline.save()
    return deadline


def _exempt_from_quiet_hours(incident) -> bool:
    return policy.exempt_from_quiet_hours(governing_levels([incident.pk]).get(incident.pk))


def cancel(qs, reason: str) -> int:
    """Open obligations in ``qs`` lapse: cancelled, and no longer scheduled for the sweep."""
    return qs.filter(state=DeadlineState.OPEN).update(
        state=DeadlineState.CANCELLED, cancelled_at=timezone.now(), cancel_reason=reason, next_action_at=None)


def _response_level(incident) -> LevelPolicy | None:
    """The policy of the incident's running response level, read fresh."""
    level = response_level(incident)
    return LevelPolicy.for_level(level) if level else None


# --- events --------------------------------------------------------------------------

def on_logged(incident, actor):
    """quick: discovered + 1 h, met by logging the incident (late at once if logged late)."""
    unit = UnitPolicy.current()
    section = office_section()
    due = policy.quick_due(incident.discovered_at, unit)
    met = incident.reported_at
    _create(incident, Kind.QUICK, section=section, body=None if section else _body(policy.COMMAND),
            due_at=due, met_at=met, met_by=actor,
            state=DeadlineState.MET if met <= due else DeadlineState.LATE)


def on_judged(incident, judged_at):
    """flash when judged major; feedback when medium or major (once each)."""
    unit = UnitPolicy.current()
    command = _body(policy.COMMAND)
    existing = set(incident.deadlines.filter(kind__in=[Kind.FLASH, Kind.FEEDBACK]).values_list("kind", flat=True))
    if incident.severity == "major" and Kind.FLASH not in existing:
        _create(incident, Kind.FLASH, body=command, due_at=policy.flash_due(judged_at, unit))
        _create(incident, Kind.CONSULTATION, body=command, due_at=policy.consultation_due(judged_at, unit))
    if incident.severity in ("medium", "major") and Kind.FEEDBACK not in existing:
        due, hard = policy.feedback_due(incident.reported_at, unit)
        _create(incident, Kind.FEEDBACK, body=command, due_at=due, hard_due_at=hard)


def on_notice(incident, notice, sections):
    """verification: every warning notice + the level's verification hours, per section."""
    level = LevelPolicy.for_level(notice.level)
    due = policy.verification_due(notice.issued_at, level)
    for section in sections:
        _create(incident, Kind.VERIFICATION, section=section, due_at=due)


def _schedule_response(incident, since, sections=None):
    level = _response_level(incident)
    if level is None:
        return
    sections = incident.sections.all() if sections is None else sections
    for section in sections:
        _create(incident, Kind.STATUS, section=section, due_at=policy.first_slot_due(Kind.STATUS, since, level))
    command = _body(policy.COMMAND)
    for kind in (Kind.BRIEFING, Kind.JUDGMENT):
        _create(incident, kind, body=command, due_at=policy.first_slot_due(kind, since, level))


def on_response_activated(incident, at):
    """status per section from activation; briefing and judgment at the next fixed times."""
    _schedule_response(incident, at)


def on_level_changed(incident, at):
    """A level change re-schedules at once: the cadence and times of the new level."""
    cancel(incident.deadlines.filter(kind__in=RESPONSE_KINDS), "level changed")
    _schedule_response(incident, at)


def on_response_lifted(incident, at):
    cancel(incident.deadlines.filter(kind__in=RESPONSE_KINDS), "response lifted")
    unit = UnitPolicy.current()
    due, provisional = policy.summary_due_marked(at, unit)
    _create(incident, Kind.SUMMARY, body=_body(policy.COMMAND), due_at=due, counted_from=at, provisional=provisional)


def on_section_assigned(incident, section, at, notice=None):
    level = _response_level(incident)
    if level is not None:
        _create(incident, Kind.STATUS, section=section, due_at=policy.first_slot_due(Kind.STATUS, at, level))
    if notice is not None:
        on_notice(incident, notice, [section])


def on_section_unassigned(incident, section):
    cancel(incident.deadlines.filter(owner_section=section), "section unassigned")


def on_warning_lifted(incident) -> list[int]:
    """The warning is lifted: the sections' verification of its notices has lapsed (R23), so
    open verification rows are cancelled and missed ones (still counted, R41) no longer chased.
    Every other obligation the plan still requires (status reports while a response runs, the
    feedback, the summary) stays owed. Returns the ids cancelled, for the timeline."""
    rows = incident.deadlines.filter(kind=Kind.VERIFICATION)
    ids = list(rows.filter(state=DeadlineState.OPEN).values_list("pk", flat=True))
    cancel(rows, "warning lifted")
    rows.filter(state=DeadlineState.MISSED).update(next_action_at=None)
    return ids
def on_convened(incident, at, actor) -> Deadline | None:
    """A consultation meets the command group's pending ``consultation`` deadline (R35)."""
    deadline = (incident.deadlines.filter(kind=Kind.CONSULTATION).pending()
                .select_for_update(of=("self",)).order_by("due_at", "id").first())
    return meet(deadline, at, actor) if deadline is not None else None


def on_order(incident, section, due_at) -> Deadline:
    """A consultation's decision addressed to a section: a work order (工作指令) it owes."""
    return _create(incident, Kind.ORDER, section=section, due_at=due_at)


def loose_ends(incident):
    """The one-off obligations still open that closing would leave behind (policy.LOOSE_ENDS)."""
    return incident.deadlines.filter(kind__in=policy.LOOSE_ENDS, state=DeadlineState.OPEN)


def waive(deadline: Deadline, actor, reason: str) -> Deadline:
    """The command group releases an owed obligation at closing, with its reason: ``waived``
    (never cancelled), counted as waived in accountability (R41)."""
    deadline.state, deadline.waived_at, deadline.waived_by = DeadlineState.WAIVED, timezone.now(), actor
    deadline.waive_reason, deadline.next_action_at = reason, None
    deadline.save(update_fields=["state", "waived_at", "waived_by", "waive_reason", "next_action_at"])
    return deadline


def on_closed(incident):
    """Open obligations lapse; missed ones stay missed (R41) but are no longer chased."""
    cancel(incident.deadlines.all(), "incident closed")
    incident.deadlines.filter(state=DeadlineState.MISSED).update(next_action_at=None)
    incident.deadlines.update(incident_closed=True)


def on_reopened(incident):
    """A closed incident recurs: its missed obligations are owed again (``pending``)."""
    incident.deadlines.filter(incident_closed=True).update(incident_closed=False)


def _open_slot(owned) -> Deadline | None:
    """The open slot of a repeating duty, locked. Asked twice: when the sweep has just found
    it missed and opened the next one, the second statement sees that one."""
    for _attempt in range(2):
        slot = owned.select_for_update(of=("self",)).filter(state=DeadlineState.OPEN).order_by("due_at", "id").first()
        if slot is not None:
            return slot
    return None


def meet(deadline: Deadline, at, actor, report=None) -> Deadline:
    """The obligation is done at ``at`` by ``actor``: met, or late past its due time."""
    deadline.state = DeadlineState.MET if at <= deadline.due_at else DeadlineState.LATE
    deadline.met_at, deadline.met_by, deadline.report = at, actor, report
    deadline.next_action_at = None  # met: no more reminders or escalations
    deadline.save(update_fields=["state", "met_at", "met_by", "report", "next_action_at"])
    return deadline


def on_report(incident, report, actor) -> Deadline | None:
    """A report meets a deadline of its kind and owner: for a repeating duty the open slot
    (a missed slot stays missed) and the next slot opens (policy.slot_after_report); for a
    one-off the earliest pending one (a missed one becomes late)."""
    owned = incident.deadlines.filter(kind=report.kind)
    owned = (owned.filter(owner_section=report.section) if report.section_id
             else owned.filter(owner_body=report.owner_body))
    slotted = policy.repeating(report.kind)
    deadline = _open_slot(owned) if slotted else owned.pending().order_by("due_at", "id").first()
    at = report.submitted_at
    if deadline is not None:
        meet(deadline, at, actor, report)
    level = _response_level(incident)
    if level is None or not slotted:
        return deadline
    if report.kind == Kind.STATUS and report.section_id:
        # Each report, a zero-report included, starts the section's next slot (R31).
        _create(incident, Kind.STATUS, section=report.section,
                due_at=policy.slot_after_report(Kind.STATUS, at, deadline.due_at if deadline else at, level))
    elif report.kind in (Kind.BRIEFING, Kind.JUDGMENT) and deadline is not None:
        _create(incident, report.kind, body=deadline.owner_body,
                due_at=policy.slot_after_report(report.kind, at, deadline.due_at, level))
    return deadline


def recompute_provisional(*, year: int) -> list[Deadline]:
    """The calendar of ``year`` was confirmed: every open deadline counted on provisional
    days is counted again (due time and mark), its sweep schedule reset, and the change
    recorded in its incident's timeline. Met, late, missed and cancelled ones keep their
    history. Runs in the confirming transaction (deadlines/receivers.py)."""
    unit = UnitPolicy.current()
    changed = []
    rows = (Deadline.objects.select_for_update(of=("self",)).select_related("incident")
            .filter(state=DeadlineState.OPEN, provisional=True, counted_from__isnull=False, kind=Kind.SUMMARY)
            .order_by("id"))
    for deadline in rows:
        before = deadline.due_at
        deadline.due_at, deadline.provisional = policy.summary_due_marked(deadline.counted_from, unit)
        schedule(deadline, unit, exempt=_exempt_from_quiet_hours(deadline.incident))
        deadline.save(update_fields=["due_at", "provisional", "next_action_at"])
        record(deadline.incident, None, "deadline_recomputed", before=deadline.incident.state, deadline=deadline.pk,
               kind=deadline.kind, year=year, due_before=before, due_at=deadline.due_at,
               provisional=deadline.provisional)
        changed.append(deadline)
    return changed


# --- the outbox -------------------------------------------------------------------------

@transaction.atomic
def delivery_resend(*, deliveries) -> int:
    """An administrator sends failed or pending outbox rows again, from the first attempt."""
    return deliveries.exclude(state=Delivery.State.SENT).update(
        state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now())


@transaction.atomic
def outbox_calendar_reminder(*, subject: str, text: str, key: str) -> int:
    """The "next year is still provisional" notice in the outbox: an e-mail to every active
    administrator and command-group member with an address and to ``settings.ADMINS``, and the
    command group's robot — once per ``key`` (the outbox's dedupe keys)."""
    users = (User.objects.filter(is_active=True).exclude(email="")
             .filter(Q(is_superuser=True) | Q(groups__name__in=[Role.ADMIN, Role.COMMAND])
                     | Q(bodies__code=Body.COMMAND))
             .values_list("email", flat=True).distinct())
    addresses = sorted(set(users) | {email for _name, email in settings.ADMINS if email})
    now = timezone.now()
    rows = [Delivery(key=f"{key}:email:{address}"[:200], channel=Delivery.Channel.EMAIL, target=address,
                     subject=subject[:300], text=text, next_attempt_at=now) for address in addresses]
    command = Body.objects.filter(code=Body.COMMAND).exclude(webhook_url="").first()
    if command is not None:
        rows.append(Delivery(key=f"{key}:webhook:command", channel=Delivery.Channel.WEBHOOK,
                             target=command.webhook_url, subject=subject[:300], text=text, next_attempt_at=now))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def delivery_test(*, channel: str, target: str, unit: str = "", actor=None) -> Delivery:
    """A test message through the outbox (the first-run checklist's "send test message"): an
    e-mail to ``target`` or a message to the group robot at ``target``, sent by the deliver task
    like every other row; the checklist counts the channel as tested once it is sent."""
    if channel not in Delivery.Channel.values or not target:
        raise ValidationError({"channel": _("没有可测试的地址：请先填写电子邮件地址或群机器人 Webhook。")})
    who = getattr(actor, "username", "") or "-"
    subject = _("【测试消息】网络舆情应急处置系统")
    text = _("这是一条测试消息，由 %(user)s 在管理后台发送，用于确认%(channel)s畅通。无需回复。") % {
        "user": who, "channel": Delivery.Channel(channel).label}
    return Delivery.objects.create(
        key=f"test:{channel}:{unit or who}:{uuid.uuid4().hex}"[:200], channel=channel, target=target,
        subject=subject, text=text, next_attempt_at=timezone.now())
