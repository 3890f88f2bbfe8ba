"""Working days (R32, summary deadline): the WorkCalendar table where a year is confirmed, the
statutory rules (organization/holidays.py) where it is not.

A date with a confirmed row (chinesecalendar, or an administrator's entry of the State
Council's notice) is official. A date without one is *provisional*: its working day follows
the statutory holidays and their 补假, weekends off, no make-up working days. Nothing blocks on
a missing year any more; callers that need to say so ask ``add_working_days_marked`` or
``day_info(...).provisional``. Only a year outside the lunar tables (before 1901, after 2099)
still raises ``CalendarNotConfirmed``.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from sentiment_ops import prepared

from . import holidays
from . import policy_defaults as seeds
from .models import Body, Role, WorkCalendar
from .selectors import units_of


class CalendarNotConfirmed(Exception):
    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _("工作日历缺少 %(year)s 年的已确认数据：请管理员在“工作日历”中补录并确认 %(year)s 年。")
            % {"year": year}
        )


@dataclass(frozen=True)
class Day:
    date: dt.date
    is_workday: bool
    holiday_name: str
    provisional: bool  # from the statutory rules, not a confirmed row


def _provisional(day: dt.date) -> Day:
    if not holidays.in_range(day.year):
        raise CalendarNotConfirmed(day.year)
    workday, name = holidays.provisional_day(day)
    return Day(day, workday, name, True)


def days(first: dt.date, last: dt.date) -> list[Day]:
    """Every date in [first, last]: the confirmed row where there is one, else the rules."""
    rows = {d: (w, n) for d, w, n in WorkCalendar.objects.filter(
        date__gte=first, date__lte=last, confirmed=True).values_list("date", "is_workday", "holiday_name")}
    out = []
    day = first
    while day <= last:
        if day in rows:
            workday, name = rows[day]
            out.append(Day(day, workday, name, False))
        else:
            out.append(_provisional(day))
        day += dt.timedelta(days=1)
    return out


def day_info(day: dt.date) -> Day:
    return days(day, day)[0]


def is_workday(day: dt.date) -> bool:
    return day_info(day).is_workday


def add_working_days_marked(start: dt.date, n: int) -> tuple[dt.date, bool]:
    """The Nth working day after ``start`` (n ≥ 1; ``start`` itself never counts), and whether
    any date counted on the way was provisional."""
    if n < 1:
        raise ValueError("n must be at least 1")
    window = n * 3 + 30  # more than enough calendar days for n working days, even over 春节
    first = start + dt.timedelta(days=1)
    count, provisional = 0, False
    while True:
        last = first + dt.timedelta(days=window)
        for day in days(first, last):
            provisional = provisional or day.provisional
            if day.is_workday:
                count += 1
                if count == n:
                    return day.date, provisional
        first = last + dt.timedelta(days=1)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The Nth working day after ``start`` (n ≥ 1); ``start`` itself never counts."""
    return add_working_days_marked(start, n)[0]


def working_days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The working days in [first, last], provisional ones included."""
    return [d.date for d in days(first, last) if d.is_workday]


def is_provisional(first: dt.date, last: dt.date) -> bool:
    """Whether any date in [first, last] lacks a confirmed row."""
    have = WorkCalendar.objects.filter(date__gte=first, date__lte=last, confirmed=True).count()
    return have != (last - first).days + 1


def year_confirmed(year: int) -> bool:
    return not is_provisional(dt.date(year, 1, 1), dt.date(year, 12, 31))


def years_to_enter(today: dt.date) -> list[int]:
    """The years still provisional whose official schedule is needed now: this year, and from
    November 1 the next one."""
    needed = [today.year] + ([today.year + 1] if today.month >= seeds.CALENDAR_REMINDER_FROM_MONTH else [])
    # One query for both years, a range of the date's index; its SQL built once per process.
    confirmed = dict(prepared.rows(("organization.calendar.years_to_enter", tuple(needed)), lambda _now: (
        WorkCalendar.objects.filter(date__gte=dt.date(needed[0], 1, 1), date__lt=dt.date(needed[-1] + 1, 1, 1),
                                    confirmed=True).order_by()
        .annotate(year=ExtractYear("date")).values("year").annotate(n=Count("id")).values_list("year", "n"))))
    return [year for year in needed
            if confirmed.get(year, 0) != (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days]


def provisional_banner(user, today: dt.date) -> dict | None:
    """The dashboard banner of the command group and the administrators while a needed year is
    provisional (``years_to_enter``); None for everyone else and once the years are confirmed."""
    if not user.is_authenticated:
        return None
    admin = user.is_superuser or user.has_role(Role.ADMIN)
    if not (admin or user.has_role(Role.COMMAND) or any(u.kind == "body" and u.code == Body.COMMAND
                                                         for u in units_of(user))):
        return None
    years = years_to_enter(today)
    if not years:
        return None
    return {"years": "、".join(str(y) for y in years), "admin": admin and user.is_staff}


def year_coverage(today: dt.date | None = None) -> list[dict]:
    """Per year in the table: days present, days confirmed, and whether the year is complete.
    With ``today``: this year and the next are listed even without a row (provisional)."""
    out = []
    qs = (
        WorkCalendar.objects.annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(days=Count("id"), confirmed_days=Count("id", filter=Q(confirmed=True)),
                  workdays=Count("id", filter=Q(is_workday=True, confirmed=True)))
        .order_by("year")
    )
    for row in qs:
        year = row["year"]
        length = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
        row["length"] = length
        row["confirmed"] = row["confirmed_days"] == length
        out.append(row)
    listed = {row["year"] for row in out}
    for year in (today.year, today.year + 1) if today else ():
        if year not in listed:
            length = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
            out.append({"year": year, "days": 0, "confirmed_days": 0, "workdays": 0, "length": length,
                        "confirmed": False})
    return sorted(out, key=lambda row: row["year"])


def confirmed_years() -> list[int]:
    return [r["year"] for r in year_coverage() if r["confirmed"]]
