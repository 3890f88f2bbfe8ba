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

from .models import Tally

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


def _whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The months wholly inside [start, end] as [lower, upper) month starts (empty when
    lower >= upper)."""
    lower = start if start.day == 1 or start == dt.date.min else (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    upper = end if end == dt.date.max else (end + dt.timedelta(days=1)).replace(day=1)
    return lower, upper


# The summary's rows of a period: its whole months, and the days outside them. Written out
# rather than built by the ORM (the page's hot path), and plain enough for both databases.
COUNTS = """
SELECT section, body, met_by, state, SUM(n) FROM deadlines_tally
 WHERE ((monthly AND day >= %s AND day < %s) OR (NOT monthly AND day >= %s AND day <= %s AND (day < %s OR day >= %s)))
   AND state IN ({states}) {owners}
 GROUP BY section, body, met_by, state
UNION ALL
SELECT section, body, met_by, state, SUM(n) FROM deadlines_tallydelta
 WHERE day >= %s AND day <= %s AND state IN ({states}) {owners}
 GROUP BY section, body, met_by, state"""


def counts(start: dt.date | None, end: dt.date | None, *, states, sections=None, bodies=None) -> list[tuple]:
    """``(section, body, met_by, state, n)`` of the deadlines due from ``start`` to ``end``
    (local dates, inclusive; None: open) in ``states``, of the owners ``sections`` or
    ``bodies`` (ids) when given; ids are 0 for none. One statement, so one snapshot: a
    compaction is seen whole or not at all. Several rows may share a key (summary and log)."""
    start, end = start or dt.date.min, end or dt.date.max
    lower, upper = _whole_months(start, end)
    states = list(states)
    owners, owner_params = "", []
    if sections is not None or bodies is not None:
        sections, bodies = list(sections or ()) or [-1], list(bodies or ()) or [-1]
        owners = f"AND (section IN ({', '.join(['%s'] * len(sections))}) OR body IN ({', '.join(['%s'] * len(bodies))}))"
        owner_params = [*sections, *bodies]
    sql = COUNTS.format(states=", ".join(["%s"] * len(states)), owners=owners)
    start, end, lower, upper = (d.isoformat() for d in (start, end, lower, upper))
    params = [lower, upper, start, end, lower, upper, *states, *owner_params, start, end, *states, *owner_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
