"""The deadline policy, readable in one place (API.md "Deadline", DOMAIN.md R12–R51).

Pure functions: given the unit's policy rows and the moment of the event, when is the
obligation due? No writes here; deadlines/services.py creates the rows.

| kind         | due                                                        | owner            |
|--------------|------------------------------------------------------------|------------------|
| quick        | discovered_at + quick_report_minutes (met by logging it)   | office section   |
| flash        | judged major + flash_report_minutes                        | body `command`   |
| feedback     | reported_at + feedback_hours, hard + feedback_hard_hours   | body `command`   |
| verification | notice issued + level's verification_hours                 | each section     |
| status       | slots: activation/level change + level's cadence (below)   | each section     |
| briefing     | slots: the level's fixed local times of day (below)        | body `command`   |
| judgment     | slots: the level's fixed local times of day (below)        | body `command`   |
| summary      | lifted + summary_working_days working days (same time)     | body `command`   |
| consultation | judged major + consultation_minutes (met by convening)     | body `command`   |
| order        | the due time the consultation's decision set (工作指令)      | the section      |

Closing (R50, R51; API.md v1.1): an incident closes with none of ``LOOSE_ENDS`` still open,
unless the command group waives each one (state ``waived``, with its reason).
"""

import datetime as dt

from django.utils import timezone

from organization.calendar import add_working_days_marked
from organization.models import Body, LevelPolicy, UnitPolicy

from .models import DeadlineState

COMMAND = Body.COMMAND  # owner of the command group's deadlines (R3)

# What the pages call "due soon": the dashboard's list and 我的待办's yellow countdowns.
DUE_SOON = dt.timedelta(hours=3)
# The sweep runs every few seconds; a heartbeat older than this means beat or the worker
# has stopped (/healthz answers 503, the dashboard turns red, ``sweep_alive`` exits 1).
SWEEP_STALE_AFTER = dt.timedelta(minutes=2)


def sweep_stale(last: dt.datetime | None, now: dt.datetime) -> bool:
    return last is None or now - last > SWEEP_STALE_AFTER


def quick_due(discovered_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    return discovered_at + dt.timedelta(minutes=unit.quick_report_minutes)


def flash_due(judged_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    return judged_at + dt.timedelta(minutes=unit.flash_report_minutes)


def consultation_due(judged_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    """R14, R35: a major incident calls for a consultation at once (policy minutes)."""
    return judged_at + dt.timedelta(minutes=unit.consultation_minutes)


# One-off obligations that must not be left open when the incident closes: each is met, or
# waived by the command group with a reason (lifecycle.services.incident_close).
LOOSE_ENDS = ("flash", "feedback", "verification", "order", "consultation")


def is_loose_end(deadline) -> bool:
    """An open one-off obligation closing would leave behind (``LOOSE_ENDS``): the one a
    command group may waive (deadlines.services.loose_ends reads the same rows)."""
    return deadline.kind in LOOSE_ENDS and deadline.state == DeadlineState.OPEN


def feedback_due(reported_at: dt.datetime, unit: UnitPolicy) -> tuple[dt.datetime, dt.datetime]:
    return (reported_at + dt.timedelta(hours=unit.feedback_hours),
            reported_at + dt.timedelta(hours=unit.feedback_hard_hours))


def verification_due(issued_at: dt.datetime, level: LevelPolicy) -> dt.datetime:
    return issued_at + dt.timedelta(hours=level.verification_hours)


def status_due(since: dt.datetime, level: LevelPolicy) -> dt.datetime:
    """Activation, a level change or the last report (a zero-report included) + cadence."""
    return since + dt.timedelta(hours=level.status_cadence_hours)


def next_fixed_time(after: dt.datetime, times: list[dt.time]) -> dt.datetime:
    """The first of the local ``times`` of day strictly after ``after``."""
    tz = timezone.get_current_timezone()
    local = after.astimezone(tz)
    for day_offset in (0, 1):
        day = local.date() + dt.timedelta(days=day_offset)
        for t in times:
            candidate = dt.datetime.combine(day, t, tzinfo=tz)
            if candidate > local:
                return candidate
    raise ValueError("no times of day configured")


def briefing_due(after: dt.datetime, level: LevelPolicy) -> dt.datetime:
    return next_fixed_time(after, level.briefing_time_list)


def judgment_due(after: dt.datetime, level: LevelPolicy) -> dt.datetime:
    return next_fixed_time(after, level.judgment_time_list)


# --- Repeating duties are slots (R31; API.md v1.1) -------------------------------------
#
# While a response runs, status (per assigned section), briefing and judgment (the command
# group) are owed slot after slot; every slot is a Deadline row and exactly one is open per
# duty and owner. The rule, exactly:
#
#   a slot unmet at its due time is missed (and stays missed: a later report meets the
#   open slot, it never turns an old slot into late), and the next slot is due at
#       status              the missed slot's due time + the level's cadence
#       briefing, judgment  the first of the level's times of day after the missed due time
#   a report at t meets the open slot (late if t is past its due time and the sweep has
#   not yet found it missed), and the next slot is due at
#       status              t + the level's cadence
#       briefing, judgment  the first of the level's times of day after max(t, slot due)
#
# Activation and a level change plan the first slots from that moment (status_due,
# briefing_due, judgment_due); lifting cancels the open slots; after lifting or closing no
# slot is created. One-off deadlines keep the v1 rule: met after being missed is late.

REPEATING = frozenset({"status", "briefing", "judgment"})  # deadlines.models.RESPONSE_KINDS


def repeating(kind: str) -> bool:
    return kind in REPEATING


def _first_slot(kind: str):
    return {"status": status_due, "briefing": briefing_due, "judgment": judgment_due}[kind]


def first_slot_due(kind: str, since: dt.datetime, level: LevelPolicy) -> dt.datetime:
    """The first slot of a duty planned at activation or a level change at ``since``."""
    return _first_slot(kind)(since, level)


def slot_after_miss(kind: str, missed_due: dt.datetime, level: LevelPolicy) -> dt.datetime:
    """The next slot when the one due at ``missed_due`` was missed."""
    return _first_slot(kind)(missed_due, level)


def slot_after_report(kind: str, reported_at: dt.datetime, slot_due: dt.datetime,
                      level: LevelPolicy) -> dt.datetime:
    """The next slot when a report at ``reported_at`` met the open slot due at ``slot_due``."""
    if kind == "status":
        return status_due(reported_at, level)
    return _first_slot(kind)(max(reported_at, slot_due), level)


def summary_due_marked(lifted_at: dt.datetime, unit: UnitPolicy) -> tuple[dt.datetime, bool]:
    """Lifted + N working days (WorkCalendar; the statutory rules for a year not confirmed), at
    the local time of day of the lifting, and whether a provisional calendar day (the year not
    yet confirmed) was counted: the deadline then carries the provisional mark."""
    tz = timezone.get_current_timezone()
    local = lifted_at.astimezone(tz)
    day, provisional = add_working_days_marked(local.date(), unit.summary_working_days)
    return dt.datetime.combine(day, local.time(), tzinfo=tz), provisional


# --- Reminders and the escalation ladder (R40) ------------------------------------------
#
#   due − 30 min  提醒 remind    → the owner's members          (leads: UnitPolicy, "30,5")
#   due − 5 min   提醒 remind    → the owner's members
#   due + 0       催办 urge      → the section head (members where it has none)
#   due + 30 min  督办 supervise → the command group
#   due + 2 h     通报 notify    → leadership
#   hard due (due where none)    → the deadline is marked missed
#
# Quiet hours (off by default) defer a reminder or escalation to their end, never drop it;
# incidents at level I or II ignore quiet hours.

QUIET_HOURS_IGNORED_UP_TO_LEVEL = 2


def exempt_from_quiet_hours(level: int | None) -> bool:
    """``level``: the one that governs the incident (the active response's, else the active
    warning's; ``deadlines.selectors.governing_levels``)."""
    return level is not None and level <= QUIET_HOURS_IGNORED_UP_TO_LEVEL

class PlanItem(tuple):
    """(at, step, sequence): sequence is the lead in minutes for reminders, else 0."""

    __slots__ = ()

    def __new__(cls, at, step, sequence=0):
        return super().__new__(cls, (at, step, sequence))

    at = property(lambda self: self[0])
    step = property(lambda self: self[1])
    sequence = property(lambda self: self[2])


def ladder(due_at: dt.datetime, hard_due_at: dt.datetime | None, created_at: dt.datetime,
           unit: UnitPolicy) -> list[PlanItem]:
    """Every timed action for one deadline, in order. A reminder whose time had already
    passed when the deadline was created is left out (its owner has just been given it)."""
    items = [PlanItem(due_at - dt.timedelta(minutes=lead), "remind", lead) for lead in unit.reminder_leads]
    items = [i for i in items if i.at > created_at]
    items += [
        PlanItem(due_at + dt.timedelta(minutes=unit.urge_after_minutes), "urge"),
        PlanItem(due_at + dt.timedelta(minutes=unit.supervise_after_minutes), "supervise"),
        PlanItem(due_at + dt.timedelta(minutes=unit.notify_after_minutes), "notify"),
    ]
    return sorted(items, key=lambda i: i.at)


def miss_at(due_at: dt.datetime, hard_due_at: dt.datetime | None) -> dt.datetime:
    """A deadline unmet past its hard due time (its due time where it has none) is missed."""
    return hard_due_at or due_at


def in_quiet_hours(at: dt.datetime, unit: UnitPolicy) -> bool:
    if not unit.quiet_hours_enabled or unit.quiet_start == unit.quiet_end:
        return False
    t = at.astimezone(timezone.get_current_timezone()).time()
    start, end = unit.quiet_start, unit.quiet_end
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_end_after(at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    tz = timezone.get_current_timezone()
    local = at.astimezone(tz)
    end = dt.datetime.combine(local.date(), unit.quiet_end, tzinfo=tz)
    return end if end > local else end + dt.timedelta(days=1)


def effective_at(item: PlanItem, unit: UnitPolicy, exempt: bool) -> dt.datetime:
    """When an item may actually fire: deferred out of quiet hours unless exempt (level I/II)."""
    if exempt or not in_quiet_hours(item.at, unit):
        return item.at
    return quiet_end_after(item.at, unit)


def due_items(items: list[PlanItem], done_until: dt.datetime | None, now: dt.datetime, unit: UnitPolicy,
              exempt: bool) -> tuple[list[PlanItem], PlanItem | None]:
    """The items to fire now, in order, and the next one still waiting. Items fire in plan
    order: one deferred by quiet hours holds back those after it, so none is ever skipped."""
    fire = []
    for item in items:
        if done_until is not None and item.at <= done_until:
            continue
        if effective_at(item, unit, exempt) > now:
            return fire, item
        fire.append(item)
    return fire, None
