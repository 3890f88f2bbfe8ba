"""Working days (R32, summary deadline): read only from the WorkCalendar table.

A date whose year the table cannot confirm raises ``CalendarNotConfirmed`` naming that year:
a rule that needs an unknown date says so instead of guessing.
"""

import datetime as dt

from django.utils.translation import gettext as _

from .models import WorkCalendar


class CalendarNotConfirmed(Exception):
    def __init__(self, year: int):
        self.year = year
        super().__init__(
            _("工作日历缺少 %(year)s 年的已确认数据：请管理员在“工作日历”中补录并确认 %(year)s 年。")
            % {"year": year}
        )


def _confirmed_row(day: dt.date) -> WorkCalendar:
    row = WorkCalendar.objects.filter(date=day, confirmed=True).only("is_workday").first()
    if row is None:
        raise CalendarNotConfirmed(day.year)
    return row


def is_workday(day: dt.date) -> bool:
    return _confirmed_row(day).is_workday


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The Nth working day after ``start`` (n ≥ 1); ``start`` itself never counts."""
    if n < 1:
        raise ValueError("n must be at least 1")
    window = n * 3 + 30  # more than enough calendar days for n working days, even over 春节
    while True:
        end = start + dt.timedelta(days=window)
        rows = list(
            WorkCalendar.objects.filter(date__gt=start, date__lte=end, confirmed=True)
            .order_by("date")
            .values_list("date", "is_workday")
        )
        expected = start + dt.timedelta(days=1)
        count = 0
        for day, workday in rows:
            if day != expected:  # a gap: that date is not confirmed
                raise CalendarNotConfirmed(expected.year)
            if workday:
                count += 1
                if count == n:
                    return day
            expected = day + dt.timedelta(days=1)
        if expected <= end:
            raise CalendarNotConfirmed(expected.year)
        window *= 2


def working_days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The working days in [first, last], each confirmed; raises on any unconfirmed date."""
    rows = list(
        WorkCalendar.objects.filter(date__gte=first, date__lte=last, confirmed=True)
        .order_by("date")
        .values_list("date", "is_workday")
    )
    if len(rows) != (last - first).days + 1:
        have = {d for d, _w in rows}
        day = first
        while day in have:
            day += dt.timedelta(days=1)
        raise CalendarNotConfirmed(day.year)
    return [d for d, w in rows if w]


def year_coverage() -> list[dict]:
    """Per year in the table: days present, days confirmed, and whether the year is complete."""
    from django.db.models import Count, Q
    from django.db.models.functions import ExtractYear

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
    return out


def confirmed_years() -> list[int]:
    return [r["year"] for r in year_coverage() if r["confirmed"]]
