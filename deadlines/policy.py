"""The deadline policy, readable in one place (API.md "Deadline", DOMAIN.md R12–R51).

Pure functions: given the unit's policy rows and the moment of the event, when is the
obligation due? No writes here; deadlines/services.py creates the rows.

| kind         | due                                                        | owner            |
|--------------|------------------------------------------------------------|------------------|
| quick        | discovered_at + quick_report_minutes (met by logging it)   | section `info`   |
| flash        | judged major + flash_report_minutes                        | body `command`   |
| feedback     | reported_at + feedback_hours, hard + feedback_hard_hours   | body `command`   |
| verification | notice issued + level's verification_hours                 | each section     |
| status       | activation/last report/level change + level's cadence      | each section     |
| briefing     | next of the level's fixed local times of day               | body `command`   |
| judgment     | next of the level's fixed local times of day               | body `command`   |
| summary      | lifted + summary_working_days working days (same time)     | body `command`   |
"""

import datetime as dt

from django.utils import timezone

from organization.calendar import add_working_days
from organization.models import LevelPolicy, UnitPolicy

QUICK_REPORT_OWNER = "info"  # the office (信息中心) that receives the 1-hour quick report (R12)
COMMAND = "command"


def quick_due(discovered_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    return discovered_at + dt.timedelta(minutes=unit.quick_report_minutes)


def flash_due(judged_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    return judged_at + dt.timedelta(minutes=unit.flash_report_minutes)


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


def summary_due(lifted_at: dt.datetime, unit: UnitPolicy) -> dt.datetime:
    """Lifted + N working days (WorkCalendar), at the local time of day of the lifting.
    Raises CalendarNotConfirmed when the calendar does not reach that far."""
    tz = timezone.get_current_timezone()
    local = lifted_at.astimezone(tz)
    day = add_working_days(local.date(), unit.summary_working_days)
    return dt.datetime.combine(day, local.time(), tzinfo=tz)
