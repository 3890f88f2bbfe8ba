"""The statutory rules of 《全国年节及纪念日放假办法》: the provisional calendar of a year that
neither chinesecalendar nor an administrator has confirmed. Pure functions, no database.

| holiday (全体公民放假的节日) | from 2025 (2024 amendment)          | before 2025         |
|------------------------------|--------------------------------------|---------------------|
| 元旦 New Year's Day           | 1 January                            | same                |
| 春节 Spring Festival          | 除夕 (the day before 正月初一) – 初三 | 初一 – 初三          |
| 清明节 Qingming               | the day of the solar term 清明        | same                |
| 劳动节 Labour Day             | 1 – 2 May                            | 1 May               |
| 端午节 Dragon Boat            | 五月初五                              | same                |
| 中秋节 Mid-Autumn            | 八月十五                              | same                |
| 国庆节 National Day          | 1 – 3 October                        | same                |

Article 6: a holiday on a Saturday or Sunday is made up on a working day (补假) — here the next
weekday that is not already a holiday or a make-up day. Weekends are rest days. Make-up
working days (调休上班) and bridge days are the State Council's annual decision and cannot be
derived: a provisional year has none until the official schedule is entered.

Lunar dates come from ``lunardate`` (tables for 1900–2099); the 清明 solar term from
``chinesecalendar``'s ``get_solar_terms``.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from chinese_calendar import get_solar_terms
from lunardate import LunarDate

AMENDMENT_2024_FROM = 2025  # the amended rules (除夕, 2 May) are in force from 2025
FIRST_RULE_YEAR, LAST_RULE_YEAR = 1901, 2099  # the lunar tables' range (除夕 needs the year before)

NEW_YEAR, SPRING, QINGMING, LABOUR, DRAGON_BOAT, MID_AUTUMN, NATIONAL = (
    "元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
FESTIVALS = (NEW_YEAR, SPRING, QINGMING, LABOUR, DRAGON_BOAT, MID_AUTUMN, NATIONAL)
MAKE_UP_SUFFIX = "（补假）"


@dataclass(frozen=True)
class RuleDay:
    date: dt.date
    festival: str
    make_up: bool = False  # a 补假 for a holiday that fell on a weekend (Article 6)

    @property
    def name(self) -> str:
        return self.festival + (MAKE_UP_SUFFIX if self.make_up else "")


def in_range(year: int) -> bool:
    return FIRST_RULE_YEAR <= year <= LAST_RULE_YEAR


def _lunar(year: int, month: int, day: int) -> dt.date:
    return LunarDate(year, month, day).to_solar_date()


def _qingming(year: int) -> dt.date:
    for day, name in get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10)):
        if name == "清明":
            return day
    raise ValueError(f"no 清明 in April {year}")


@lru_cache(maxsize=64)
def statutory_days(year: int) -> tuple[RuleDay, ...]:
    """The statutory holidays of ``year`` by the rules in force that year, in date order.
    A date that is two holidays at once (中秋 on 1 October) appears once, under the first."""
    if not in_range(year):
        raise ValueError(f"the statutory rules are computed for {FIRST_RULE_YEAR}–{LAST_RULE_YEAR}")
    amended = year >= AMENDMENT_2024_FROM
    new_year_day = _lunar(year, 1, 1)
    spring = [new_year_day + dt.timedelta(days=i) for i in range(3)]
    if amended:
        spring.insert(0, new_year_day - dt.timedelta(days=1))  # 除夕
    days = [(dt.date(year, 1, 1), NEW_YEAR)]
    days += [(d, SPRING) for d in spring]
    days += [(_qingming(year), QINGMING)]
    days += [(dt.date(year, 5, 1), LABOUR)] + ([(dt.date(year, 5, 2), LABOUR)] if amended else [])
    days += [(_lunar(year, 5, 5), DRAGON_BOAT), (_lunar(year, 8, 15), MID_AUTUMN)]
    days += [(dt.date(year, 10, d), NATIONAL) for d in (1, 2, 3)]
    seen, out = set(), []
    for day, name in sorted(days, key=lambda x: (x[0], FESTIVALS.index(x[1]))):
        if day not in seen:
            seen.add(day)
            out.append(RuleDay(day, name))
    return tuple(out)


@lru_cache(maxsize=64)
def make_up_days(year: int) -> tuple[RuleDay, ...]:
    """Article 6 (补假): for each statutory holiday on a Saturday or Sunday, in date order, the
    next weekday that is neither a holiday nor already a make-up day."""
    holidays = statutory_days(year)
    taken = {h.date for h in holidays}
    out = []
    for holiday in holidays:
        if holiday.date.weekday() < 5:
            continue
        day = holiday.date + dt.timedelta(days=1)
        while day.weekday() >= 5 or day in taken:
            day += dt.timedelta(days=1)
        taken.add(day)
        out.append(RuleDay(day, holiday.festival, make_up=True))
    return tuple(out)


@lru_cache(maxsize=64)
def rest_days(year: int) -> dict[dt.date, RuleDay]:
    """Every statutory holiday and 补假 of ``year`` by date (weekends not included)."""
    return {d.date: d for d in statutory_days(year) + make_up_days(year)}


def provisional_day(day: dt.date) -> tuple[bool, str]:
    """(is_workday, holiday_name) of ``day`` by the rules: off on a holiday or 补假 and at
    weekends, working otherwise (no 调休上班 can be derived)."""
    rule = rest_days(day.year).get(day)
    if rule is not None:
        return False, rule.name
    return day.weekday() < 5, ""


def compare_with_rules(year: int, table: dict) -> list[dict]:
    """The official ``table`` (date → (is_workday, name), every date of ``year``) beside the
    rules, on every date where either is not an ordinary week day (a holiday, a 补假, a
    make-up working day, a bridge day), in date order. ``differs``: the two disagree on
    whether it is a working day; ``statutory_left_working``: a statutory holiday (not a 补假)
    that the official table makes a working day — refused without a recorded reason."""
    rules = rest_days(year)
    statutory = {h.date for h in statutory_days(year)}
    rows = []
    for day in sorted(table):
        official_workday, official_name = table[day]
        rules_workday, rules_name = provisional_day(day)
        ordinary = day.weekday() < 5
        if day not in rules and official_workday == ordinary and not official_name:
            continue
        rows.append({
            "date": day, "weekday": day.weekday(), "weekend": day.weekday() >= 5,
            "rules_workday": rules_workday, "rules_name": rules_name,
            "official_workday": official_workday, "official_name": official_name,
            "differs": rules_workday != official_workday,
            "statutory": day in statutory,
            "statutory_left_working": day in statutory and official_workday,
        })
    return rows
