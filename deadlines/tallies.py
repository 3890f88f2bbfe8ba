"""Accountability's summary (R41, issue 12): how many deadlines each (local due day, owner,
person who met them, state) holds, kept without any writer having to remember it.

- Database triggers on ``deadlines_deadline`` (migration 0013_accountability_tallies) log
  every change into ``TallyDelta``: insert-only, +n for rows entering a key, -n for rows
  leaving one. Services, the sweep's bulk updates, slot creation and deletes are all counted,
  and concurrent writers never touch a shared row (upserting shared tally rows from their
  transactions could deadlock).
- ``compact`` (the beat's ``compact-tallies``, every minute) moves the log into ``Tally``:
  a day row and a month row per key, rows that reach 0 removed.
- ``counts`` reads compacted rows plus the not yet compacted log in one statement, so a
  period of any length reads a few month rows, the days at its edges and the recent log.

This module knows the storage and nothing of what the figures mean (deadlines/accountability.py).
"""

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Q, Sum

from .models import Tally, TallyDelta

KEY = ("section", "body", "met_by", "state")
CHUNK = 500  # rows per upsert statement (7 parameters each; SQLite allows 32,766)

UPSERT = ("INSERT INTO deadlines_tally (monthly, day, section, body, met_by, state, n) VALUES {values} "
          "ON CONFLICT (monthly, day, section, body, met_by, state) DO UPDATE SET n = deadlines_tally.n + excluded.n "
          "RETURNING id, n")


def compact() -> int:
    """Fold the log into the tallies; returns how many log rows it moved. The log rows are taken
    by one DELETE … RETURNING, so a row committed meanwhile waits for the next run, and two runs
    at once take disjoint rows (and upsert in key order: no deadlock)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM deadlines_tallydelta RETURNING day, section, body, met_by, state, n")
        moved = cursor.fetchall()
        sums: dict[tuple, int] = defaultdict(int)
        for day, section, body, met_by, state, n in moved:
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
            sums[(False, day, section, body, met_by, state)] += n
            sums[(True, day.replace(day=1), section, body, met_by, state)] += n
        rows = sorted(key for key, n in sums.items() if n)
        empty = []
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            cursor.execute(UPSERT.format(values=", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))),
                           [v for key in chunk for v in (key[0], key[1].isoformat(), *key[2:], sums[key])])
            empty += [pk for pk, n in cursor.fetchall() if n == 0]
        if empty:
            Tally.objects.filter(pk__in=empty, n=0).delete()
    return len(moved)


def _whole_months(start: dt.date | None, end: dt.date | None):
    """The months wholly inside [start, end] as [lower, upper) month starts (None: open)."""
    lower = None if start is None else (start if start.day == 1 else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1))
    upper = None if end is None else (end + dt.timedelta(days=1)).replace(day=1)
    return lower, upper


def _days(start, end) -> Q:
    q = Q()
    if start:
        q &= Q(day__gte=start)
    if end:
        q &= Q(day__lte=end)
    return q


def counts(start: dt.date | None, end: dt.date | None, *, states, sections=None, bodies=None):
    """``(section, body, met_by, state, n)`` of the deadlines due from ``start`` to ``end``
    (local dates, inclusive; None: open) in ``states``, of the owners ``sections`` or
    ``bodies`` (ids) when given; ids are 0 for none. One query; several rows may share a key."""
    lower, upper = _whole_months(start, end)
    months = Q(monthly=True)
    if lower:
        months &= Q(day__gte=lower)
    if upper:
        months &= Q(day__lt=upper)
    if lower and upper and lower >= upper:  # no whole month: the days alone
        tallies = Q(monthly=False) & _days(start, end)
    elif lower is None and upper is None:  # the whole history: the months alone
        tallies = months
    else:  # the days before and after the whole months, and the months
        edges = [q for q in (lower and Q(day__lt=lower), upper and Q(day__gte=upper)) if q]
        outside = edges[0] if len(edges) == 1 else edges[0] | edges[1]
        tallies = (Q(monthly=False) & _days(start, end) & outside) | months
    owners = None
    if sections is not None or bodies is not None:
        owners = Q(section__in=list(sections or ())) | Q(body__in=list(bodies or ()))
    summary = Tally.objects.filter(tallies, state__in=states)
    log = TallyDelta.objects.filter(_days(start, end), state__in=states)
    if owners is not None:
        summary, log = summary.filter(owners), log.filter(owners)
    summary = summary.order_by().values_list(*KEY).annotate(total=Sum("n"))
    log = log.order_by().values_list(*KEY).annotate(total=Sum("n"))
    return summary.union(log, all=True)
