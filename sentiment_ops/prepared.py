"""SQL built once per process: the text and parameters of a fixed-shape statement, kept by a
key that names everything its shape depends on, and executed again with the time of the request.

Building a queryset and compiling it costs more Python than the database spends answering the
small indexed queries every page runs (the user's identity, the navigation's counts). A caller
names its statement by ``key`` — every input that decides the statement's text or parameters
except the time (the user's id, roles and units for a user's statement) — and gives
``build(now)``, which returns the queryset (or the ``(sql, params)``) for that ``now``.

The time is the one input not in the key: ``build`` is compiled twice on a miss, at two
distant instants, and the parameters that differ are the time-derived ones (``now``, ``now +
3 h``…), each kept as its offset from ``now`` and adapted again for each call. If the two
compilations differ in anything else (the text, a parameter that is not a time offset of
``now``), nothing is kept and every call compiles (``build`` is then not fixed-shape).

Entries are per database (its alias and vendor: SQLite and PostgreSQL compile differently) and
per process; the least recently used go beyond ``SIZE``. Nothing here reads the database: a
statement's results are never kept, only its text, so no write can make an entry stale."""

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections

SIZE = 4096
_FIRST = dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
_SECOND = dt.datetime(2003, 7, 9, 13, 31, 47, 123456, tzinfo=dt.UTC)  # every field (and weekday) differs
_UNCACHEABLE = object()

_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()


class Empty(Exception):
    """The statement can match nothing (the ORM's ``EmptyResultSet``): nothing to run."""


def _compiled(built, using) -> tuple[str, tuple]:
    if isinstance(built, tuple):
        sql, params = built
        return sql, tuple(params)
    try:
        sql, params = built.query.get_compiler(using=using).as_sql()
    except EmptyResultSet:
        raise Empty from None
    return sql, tuple(params)


def _as_time(value) -> dt.datetime | None:
    """A datetime parameter as adapted for the database, back to an aware datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _template(build, using):
    """(sql, params, {position: offset from now}) or _UNCACHEABLE."""
    ops = connections[using].ops
    first, second = _compiled(build(_FIRST), using), _compiled(build(_SECOND), using)
    if first[0] != second[0] or len(first[1]) != len(second[1]):
        return _UNCACHEABLE
    offsets = {}
    for i, (a, b) in enumerate(zip(first[1], second[1], strict=True)):
        if a == b:
            continue
        when = _as_time(a)
        if when is None:
            return _UNCACHEABLE
        offset = when - _FIRST
        if ops.adapt_datetimefield_value(_SECOND + offset) != b or ops.adapt_datetimefield_value(_FIRST + offset) != a:
            return _UNCACHEABLE
        offsets[i] = offset
    return first[0], first[1], offsets


def sql(key: Hashable, build: Callable, now: dt.datetime | None = None,
        using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
    """The statement of ``key`` for ``now``: (sql, params), compiled once per process.
    Raises ``Empty`` when the statement can match nothing."""
    connection = connections[using]
    full_key = (using, connection.vendor, key)
    entry = _entries.get(full_key)
    if entry is None:
        try:
            entry = _template(build, using)
        except Empty:
            entry = Empty
        with _lock:
            _entries[full_key] = entry
            while len(_entries) > SIZE:
                _entries.popitem(last=False)
    else:
        with _lock:
            if full_key in _entries:
                _entries.move_to_end(full_key)
    if entry is Empty:
        raise Empty
    if entry is _UNCACHEABLE:
        return _compiled_list(build(now), using)
    text, params, offsets = entry
    if not offsets:
        return text, list(params)
    if now is None:
        raise ValueError("this statement depends on the time: pass now")
    params = list(params)
    for i, offset in offsets.items():
        params[i] = connection.ops.adapt_datetimefield_value(now + offset)
    return text, params


def _compiled_list(built, using) -> tuple[str, list]:
    text, params = _compiled(built, using)
    return text, list(params)


def clear():
    """Forget every statement (tests that change how the ORM compiles)."""
    with _lock:
        _entries.clear()
