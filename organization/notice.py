"""Reading an official holiday schedule: the items of the State Council's annual notice
(国务院办公厅关于 N 年部分节假日安排的通知), a CSV or an ICS file. Pure functions, no database.

The notice, in either phrasing (shared/calendar/README.md)::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    一、元旦：1月1日放假，1月2日（星期一）补休。
    六、中秋节、国庆节：10月1日至8日放假调休，共8天。9月30日（星期六）上班。

An item is "<number>、<festival>[、<festival>]：" followed by clauses separated by ，。；:
"<date>[至<date>]放假[调休]", "共N天" (checked against the range), "<date>[、<date>]上班"
(make-up working days), "<date>[、<date>]补休" (rest days), "与周末连休" (nothing to do). A date is
"[YYYY年]M月D日", or "D日" after a date of the same month; a parenthesis after it may name the
weekday (周四, 星期一: checked) and the lunar date (informational). Full-width and half-width
punctuation and digits are both accepted. A line that is none of these — or whose weekday,
count or festival does not check out — is reported with its number; nothing is guessed.

CSV: one date a line, ``date,kind[,name]`` with ``kind`` 休/rest/holiday/0 or 班/work/workday/1.
ICS: all-day VEVENTs (DTSTART;VALUE=DATE, DTEND exclusive); a SUMMARY containing 班 (补班, 上班)
is a make-up working day, any other is a rest day named by its SUMMARY.

Everything not listed follows the week: Monday–Friday working, weekends off.
"""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .holidays import FESTIVALS

WEEKDAYS = "一二三四五六日"
FESTIVAL_ALIASES = {"元旦": "元旦", "春节": "春节", "清明节": "清明节", "清明": "清明节", "劳动节": "劳动节",
                    "五一": "劳动节", "端午节": "端午节", "端午": "端午节", "中秋节": "中秋节", "中秋": "中秋节",
                    "国庆节": "国庆节", "国庆": "国庆节"}
assert set(FESTIVAL_ALIASES.values()) == set(FESTIVALS)

_WIDTH = str.maketrans("０１２３４５６７８９（）：，。；、－～", "0123456789():,.;、-~")
_ITEM = re.compile(r"^([一二三四五六七八九十]+|\d+)[、.．]\s*(?P<names>[^:]+?)\s*:\s*(?P<body>.+)$")
_TITLE = re.compile(r"(\d{4})\s*年\s*部分节假日安排")
_DATE = r"(?:(?:(?P<{p}y>\d{{4}})年)?(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日(?:\((?P<{p}note>[^)]*)\))?"
_RANGE = re.compile("^" + _DATE.format(p="a") + r"(?:\s*(?:至|到|-|~|—)\s*" + _DATE.format(p="b")
                    + r")?\s*(?P<verb>放假调休|放假)$")
_ONE_DATE = re.compile("^" + _DATE.format(p="a") + "$")
_LIST = re.compile(r"^(?P<dates>.+?)\s*(?P<verb>上班|补休|补班)$")
_COUNT = re.compile(r"^共\s*(\d+)\s*天$")
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")


@dataclass
class LineError:
    line: int
    text: str
    message: str


@dataclass
class Schedule:
    """A year's schedule as read: rest days and make-up working days, each with its item's
    name; everything else follows the week."""

    year: int
    rest: dict = field(default_factory=dict)  # date → name
    work: dict = field(default_factory=dict)  # date → name (调休上班)
    errors: list = field(default_factory=list)  # LineError
    notes: list = field(default_factory=list)  # informational: dates outside the year, …

    def table(self) -> dict[dt.date, tuple[bool, str]]:
        """(is_workday, holiday_name) of every date of the year."""
        out = {}
        day = dt.date(self.year, 1, 1)
        while day.year == self.year:
            if day in self.rest:
                out[day] = (False, self.rest[day])
            elif day in self.work:
                out[day] = (True, self.work[day])
            else:
                out[day] = (day.weekday() < 5, "")
            day += dt.timedelta(days=1)
        return out

    def _add(self, target: dict, other: dict, day: dt.date, name: str, line: int, text: str) -> None:
        if day.year != self.year:
            self.notes.append(_("第 %(line)s 行：%(date)s 不在 %(year)s 年，已略过。")
                              % {"line": line, "date": day.isoformat(), "year": self.year})
            return
        if day in other:
            self.errors.append(LineError(line, text, _("%(date)s 既是休息日又是上班日。") % {"date": day.isoformat()}))
            return
        target[day] = name


def parse(content: str, *, year: int | None = None, filename: str = "") -> Schedule:
    """Read ``content`` as a notice, a CSV or an ICS file (by the file name's ending, else by
    the content). ``year``: the schedule's year; else the notice's title or the file name."""
    content = content.lstrip("\ufeff")
    name = filename.lower()
    if year is None:
        year = _guess_year(content, filename)
    if name.endswith(".ics") or content.lstrip().startswith("BEGIN:VCALENDAR"):
        return _parse_ics(content, year)
    if name.endswith(".csv") or re.match(r"^\s*(date|日期|\d{4}-\d{1,2}-\d{1,2}\s*,)", content, re.I):
        return _parse_csv(content, year)
    return _parse_notice(content, year)


def _guess_year(content: str, filename: str) -> int:
    if m := _TITLE.search(content.translate(_WIDTH)):
        return int(m.group(1))
    if m := re.search(r"(?<!\d)(20\d\d)(?!\d)", filename):
        return int(m.group(1))
    raise ValueError(_("无法确定年份：请指定年份。"))


# --- the notice ------------------------------------------------------------------------

def _parse_notice(content: str, year: int) -> Schedule:
    schedule = Schedule(year=year)
    for number, raw in enumerate(content.splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        line = re.sub(r"\s+", "", text.translate(_WIDTH))
        if (m := _TITLE.search(line)) and not _ITEM.match(line):
            if int(m.group(1)) != year:
                schedule.errors.append(LineError(number, text, _("通知标题的年份 %(title)s 与所录年份 %(year)s 不符。")
                                                 % {"title": m.group(1), "year": year}))
            continue
        problem = _parse_item(schedule, number, text, line)
        if problem:
            schedule.errors.append(LineError(number, text, problem))
    return schedule


def _parse_item(schedule: Schedule, number: int, text: str, line: str) -> str | None:
    """Read one item into ``schedule``; the reason when the line cannot be read."""
    m = _ITEM.match(line)
    if not m:
        return _("不是通知的条目（应为“一、元旦：……”）。")
    festivals = []
    for alias in m.group("names").split("、"):
        if alias not in FESTIVAL_ALIASES:
            return _("无法识别的节日名称：%(name)s。") % {"name": alias}
        festivals.append(FESTIVAL_ALIASES[alias])
    name = "、".join(festivals)
    rest, work, last_range = {}, {}, None
    for clause in (c for c in re.split(r"[,.;](?![^(]*\))", m.group("body")) if c):
        if clause == "与周末连休":
            continue
        if count := _COUNT.match(clause):
            if last_range is None or len(last_range) != int(count.group(1)):
                return _("“%(clause)s”与放假日期的天数不符。") % {"clause": clause}
            continue
        if r := _RANGE.match(clause):
            try:
                first = _date(r, "a", schedule.year, None)
                last = _date(r, "b", schedule.year, first) if r.group("bd") else first
            except ValueError as exc:
                return str(exc)
            if last < first or (last - first).days > 31:
                return _("放假日期的范围不对：%(clause)s。") % {"clause": clause}
            last_range = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
            rest.update(dict.fromkeys(last_range, name))
            continue
        if lst := _LIST.match(clause):
            dates, previous = [], None
            for part in re.split(r"、(?![^(]*\))", lst.group("dates")):
                one = _ONE_DATE.match(part)
                if not one:
                    return _("无法识别的日期：%(part)s。") % {"part": part}
                try:
                    previous = _date(one, "a", schedule.year, previous)
                except ValueError as exc:
                    return str(exc)
                dates.append(previous)
            (rest if lst.group("verb") == "补休" else work).update(dict.fromkeys(dates, name))
            continue
        return _("无法识别：“%(clause)s”。") % {"clause": clause}
    if not rest:
        return _("该条目没有放假日期。")
    for day in sorted(rest):
        schedule._add(schedule.rest, schedule.work, day, name, number, text)
    for day in sorted(work):
        schedule._add(schedule.work, schedule.rest, day, name, number, text)
    return None


def _date(m: re.Match, p: str, year: int, previous: dt.date | None) -> dt.date:
    """The date of group prefix ``p``; a bare "D日" takes the month (and year) of ``previous``.
    Raises ValueError for an impossible date or a weekday that does not match."""
    y, month, d, note = m.group(p + "y"), m.group(p + "m"), m.group(p + "d"), m.group(p + "note")
    if month is None:
        if previous is None:
            raise ValueError(_("日期缺少月份：%(day)s日。") % {"day": d})
        y, month = previous.year, previous.month
    try:
        day = dt.date(int(y or year), int(month), int(d))
    except ValueError:
        raise ValueError(_("不存在的日期：%(m)s月%(d)s日。") % {"m": month, "d": d}) from None
    if note and (w := _WEEKDAY.search(note)):
        named = "一二三四五六日".index(w.group(1).replace("天", "日"))
        if named != day.weekday():
            raise ValueError(_("%(date)s 是星期%(actual)s，不是星期%(named)s：请核对年份和日期。")
                             % {"date": day.isoformat(), "actual": WEEKDAYS[day.weekday()], "named": w.group(1)})
    return day


# --- CSV and ICS -----------------------------------------------------------------------

REST_WORDS = {"休", "休息", "放假", "rest", "holiday", "off", "0", "false"}
WORK_WORDS = {"班", "上班", "补班", "work", "workday", "working", "1", "true"}


def _parse_csv(content: str, year: int) -> Schedule:
    schedule = Schedule(year=year)
    for number, row in enumerate(csv.reader(io.StringIO(content)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].lower() in ("date", "日期"):
            continue
        text = ",".join(row)
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            schedule.errors.append(LineError(number, text, _("无法识别的日期：%(part)s。") % {"part": cells[0]}))
            continue
        kind = cells[1].lower() if len(cells) > 1 else ""
        name = cells[2] if len(cells) > 2 else ""
        if kind in REST_WORDS:
            schedule._add(schedule.rest, schedule.work, day, name, number, text)
        elif kind in WORK_WORDS:
            schedule._add(schedule.work, schedule.rest, day, name, number, text)
        else:
            schedule.errors.append(LineError(number, text, _("第二列应为“休”或“班”。")))
    return schedule


def _parse_ics(content: str, year: int) -> Schedule:
    schedule = Schedule(year=year)
    lines = re.sub(r"\r?\n[ \t]", "", content).splitlines()  # unfold
    event, start_line = None, 0
    for number, line in enumerate(lines, start=1):
        key, _sep, value = line.partition(":")
        prop = key.split(";")[0].upper()
        if line.strip() == "BEGIN:VEVENT":
            event, start_line = {}, number
        elif line.strip() == "END:VEVENT" and event is not None:
            _ics_event(schedule, event, start_line)
            event = None
        elif event is not None and prop in ("DTSTART", "DTEND", "SUMMARY"):
            event[prop] = value.strip()
    return schedule


def _ics_event(schedule: Schedule, event: dict, number: int) -> None:
    summary = event.get("SUMMARY", "")
    try:
        start = dt.datetime.strptime(event["DTSTART"][:8], "%Y%m%d").date()
        end = (dt.datetime.strptime(event["DTEND"][:8], "%Y%m%d").date() if "DTEND" in event
               else start + dt.timedelta(days=1))
    except (KeyError, ValueError):
        schedule.errors.append(LineError(number, summary, _("日程缺少可识别的日期（DTSTART）。")))
        return
    working = "班" in summary
    name = re.sub(r"[(（]?(补班|上班|班|休)[)）]?", "", summary).strip()
    day = start
    while day < end:
        if working:
            schedule._add(schedule.work, schedule.rest, day, name, number, summary)
        else:
            schedule._add(schedule.rest, schedule.work, day, name, number, summary)
        day += dt.timedelta(days=1)
