"""SQL built once per process: the text and parameters of a fixed-shape statement, kept by a
key that names everything its shape depends on, and executed again with the time of the request.

Building a queryset and compiling it costs more Python than the database spends answering the
small indexed queries every page runs (the user's identity, the navigation's counts, the homes'
lists). A caller names its statement by ``key`` — every input that decides the statement's text
or parameters except the time (the user's id, roles and units for a user's statement; a
module's constants, such as a cap, when a test may change them) — and gives ``build(now)``,
which returns the queryset (or the ``(sql, params)``) for that ``now`` — and reads the time from
that argument only, never from the clock (a frozen clock would otherwise pass for a constant). ``sql()`` answers the
text and parameters, to run on a cursor; ``rows()`` answers what ``list(build(now))`` would
(model instances with their select_related objects, annotations and prefetches, or values),
the ORM reading the rows with the compiler kept from the first build.

The time is the one input not in the key: ``build`` is compiled twice on a miss, at two
distant instants, and the parameters that differ are the time-derived ones (``now``, ``now +
3 h``…), each kept as its offset from ``now`` and adapted again for each call. If the two
compilations differ in anything else (the text, a parameter that is not a time offset of
``now``), nothing is kept and every call compiles (``build`` is then not fixed-shape).

Entries are per database (its alias and vendor: SQLite and PostgreSQL compile differently) and
per process; the least recently used go beyond ``SIZE``. Nothing here reads the database: a
statement's results are never kept, only its text, so no write can make an entry stale."""

import copy
import dataclasses
import datetime as dt
import itertools
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, prefetch_related_objects

SIZE = 1024  # ~35 KB each with its compiled queryset: ≤ 35 MB a worker, some 80 users' pages
_FIRST = dt.datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
_SECOND = dt.datetime(2003, 7, 9, 13, 31, 47, 123456, tzinfo=dt.UTC)  # every field (and weekday) differs
_UNCACHEABLE = object()

_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()


class Empty(Exception):
    """The statement can match nothing (the ORM's ``EmptyResultSet``): nothing to run."""


def _compiled(built, using):
    """(sql, params, compiler or None) of a queryset or of a ready (sql, params)."""
    if isinstance(built, tuple):
        sql, params = built
        return sql, tuple(params), None
    compiler = built.query.get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        raise Empty from None
    return sql, tuple(params), compiler


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


class _Entry:
    __slots__ = ("built", "compiler", "offsets", "params", "sql")

    def __init__(self, sql, params, offsets, built, compiler):
        self.sql, self.params, self.offsets, self.built, self.compiler = sql, params, offsets, built, compiler


def _template(build, using, keep):
    """The entry of ``build``, or _UNCACHEABLE; ``keep``: with the queryset and its compiler
    (to read rows through the ORM), else the text alone."""
    ops = connections[using].ops
    built = build(_FIRST)
    first, second = _compiled(built, using), _compiled(build(_SECOND), using)
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
    return _Entry(first[0], first[1], offsets, built if keep else None, first[2] if keep else None)


def _kept(full_key, make):
    """The table's entry of ``full_key``, made by ``make()`` on a miss; the least recently
    used go beyond ``SIZE``."""
    entry = _entries.get(full_key)
    if entry is None:
        entry = make()
        with _lock:
            _entries[full_key] = entry
            while len(_entries) > SIZE:
                _entries.popitem(last=False)
    else:
        with _lock:
            if full_key in _entries:
                _entries.move_to_end(full_key)
    return entry


def _entry(key, build, using, keep=False):
    """The kept entry of ``key`` (built on a miss): an _Entry, Empty or _UNCACHEABLE."""
    def make():
        try:
            return _template(build, using, keep)
        except Empty:
            return Empty

    return _kept((using, connections[using].vendor, keep, key), make)


def _params(entry, now, using) -> list:
    params = list(entry.params)
    if entry.offsets:
        if now is None:
            raise ValueError("this statement depends on the time: pass now")
        adapt = connections[using].ops.adapt_datetimefield_value
        for i, offset in entry.offsets.items():
            params[i] = adapt(now + offset)
    return params


def sql(key: Hashable, build: Callable, now: dt.datetime | None = None,
        using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
    """The statement of ``key`` for ``now``: (sql, params), compiled once per process.
    Raises ``Empty`` when the statement can match nothing."""
    entry = _entry(key, build, using)
    if entry is Empty:
        raise Empty
    if entry is _UNCACHEABLE:
        text, params, _compiler = _compiled(build(now), using)
        return text, list(params)
    return entry.sql, _params(entry, now, using)


class _Query:
    """The queryset's query, answering ``get_compiler`` with the kept compiler."""

    def __init__(self, query, compiler):
        self._query, self._compiler = query, compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler

    def __getattr__(self, name):
        return getattr(self._query, name)


class _Run:
    """The queryset as the ORM's iterables read it (model instances, values, flat values),
    with the kept compiler."""

    def __init__(self, queryset, compiler):
        self._queryset = queryset
        self.query = _Query(queryset.query, compiler)

    def __getattr__(self, name):
        return getattr(self._queryset, name)


def rows(key: Hashable, build: Callable, now: dt.datetime | None = None,
         using: str = DEFAULT_DB_ALIAS) -> list:
    """``list(build(now))`` — model instances with their select_related objects, annotations
    and prefetches, or the values of a ``values_list`` — with the SQL compiled once per
    process for ``key``."""
    entry = _entry(key, build, using, keep=True)
    if entry is Empty:
        return []
    if entry is _UNCACHEABLE:
        return list(build(now))
    text, params = _planned_once(("rows", using, key), entry, now, using)
    return _read(entry.built, entry.compiler, text, params, using)


def fetch(key: Hashable, build: Callable, now: dt.datetime | None = None, using: str = DEFAULT_DB_ALIAS,
          *, named: bool = False) -> list:
    """The rows of ``sql(key, build, now)`` as the cursor answers them (tuples; with ``named``,
    dicts by column name), its statement planned once per connection on PostgreSQL
    (``_planned_once``). Empty when the statement can match nothing."""
    entry = _entry(key, build, using)
    if entry is Empty:
        return []
    if entry is _UNCACHEABLE:
        try:
            text, params, _compiler = _compiled(build(now), using)
        except Empty:
            return []
    else:
        text, params = _planned_once(("sql", using, key), entry, now, using)
    with connections[using].cursor() as cursor:
        cursor.execute(text, params)
        rows = cursor.fetchall()
        if named:
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in rows]
    return rows


def _planned_once(server_key, entry, now, using) -> tuple[str, list]:
    """The statement to send for ``entry`` at ``now``: on PostgreSQL (``settings.SERVER_PREPARED``)
    a prepared statement of the connection whose parameters are the times (``$n`` of type
    timestamptz), the rest written in (``_execute``) — the small indexed statements of every
    page spent about as long being planned as being run (the command group's home: 9.5 → 7.4
    ms of SQL); elsewhere the text and parameters."""
    params = _params(entry, now, using)
    conn = connections[using]
    if not _on_server(conn):
        return entry.sql, params
    number = {i: n for n, i in enumerate(sorted(entry.offsets), 1)}
    return _execute(conn, server_key, entry.sql, params, number)


def _read(queryset, kept, text, params, using) -> list:
    """What ``list(queryset)`` answers, read with the ``kept`` compiler running ``text``."""
    compiler = copy.copy(kept)  # the kept compiler's select and converters, the call's params
    compiler.connection = connections[using]
    compiler.as_sql = lambda *args, **kwargs: (text, params)
    found = list(queryset._iterable_class(_Run(queryset, compiler)))
    if queryset._prefetch_related_lookups:
        prefetch_related_objects(found, *queryset._prefetch_related_lookups)
    return found


def _holders(id_lists) -> list[list[int]]:
    """Placeholder ids (negative, never a row's) standing for ``id_lists``."""
    return [[-(10**9) - 10**6 * n - i for i in range(len(ids))] for n, ids in enumerate(id_lists)]


def _slots(params, holders):
    """Where each placeholder is among ``params`` ((position, (list, index)) pairs), or None
    when one of them cannot be found."""
    where = {value: (n, i) for n, ids in enumerate(holders) for i, value in enumerate(ids)}
    slots = [(k, where[p]) for k, p in enumerate(params) if isinstance(p, int) and p in where]
    return slots if {slot for _k, slot in slots} == set(where.values()) else None


def _filled(params, slots, id_lists) -> list:
    params = list(params)
    for k, (n, i) in slots:
        params[k] = id_lists[n][i]
    return params


# PostgreSQL plans ``by_ids(..., server=True)``'s statements once per connection (PREPARE):
# the id lists padded to one of these lengths (with 0, no row's id), so that a connection keeps
# a few statements, not one per length.
_LENGTHS = (1, 2, 5, 10, 20, 50, 100, 200)
_names = itertools.count()
_server: dict = {}  # a statement's key → (name, PREPARE text, the indexes of its parameters)
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection → names


def _on_server(conn) -> bool:
    """Whether this connection plans the statements asked for once (``settings.SERVER_PREPARED``)."""
    return conn.vendor == "postgresql" and settings.SERVER_PREPARED


def _padded(ids: list) -> list:
    for length in _LENGTHS:
        if len(ids) <= length:
            return [*ids, *[0] * (length - len(ids))]
    return ids


def _inlined(cursor, text: str, params, number: dict) -> str:
    """``text`` for PREPARE: the parameters at the indexes of ``number`` as ``$n``, every other
    one written in as the driver would send it."""
    pieces, k = [], 0
    for part in re.split(r"(%%|%s)", text):
        if part == "%%":
            pieces.append("%")
        elif part == "%s":
            pieces.append(f"${number[k]}" if k in number else cursor.cursor.mogrify("%s", (params[k],)).decode())
            k += 1
        else:
            pieces.append(part)
    return "".join(pieces)


_TYPES = {False: "bigint", True: "timestamptz"}  # a varying parameter is an id or a time


def _execute(conn, server_key, text, params, number: dict) -> tuple[str, list]:
    """The statement to send for ``text`` run as a PostgreSQL prepared statement of this
    connection (``number``: the indexes of the parameters that vary, each a ``$n`` of type
    bigint, or timestamptz for a time; the rest are written in): ``PREPARE`` with the first
    ``EXECUTE`` in one round trip, later ones ``EXECUTE`` alone — planned once per connection,
    not per request (PostgreSQL plans a prepared statement's first five runs for their values,
    then keeps a generic plan only if it costs no more)."""
    conn.ensure_connection()
    found = _server.get(server_key)
    if found is None:
        name = f"prepared_{next(_names)}"
        with conn.cursor() as cursor:
            body = _inlined(cursor, text, params, number)
        count = len(set(number.values()))
        order = [min(k for k, n in number.items() if n == i) for i in range(1, count + 1)]
        types = f" ({', '.join(_TYPES[type(params[k]) is dt.datetime] for k in order)})" if count else ""
        found = _server[server_key] = (name, f"PREPARE {name}{types} AS {body}".replace("%", "%%"), order)
    name, prepare, order = found
    execute = f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(order))})" if order else "")
    done = _prepared_on.setdefault(conn.connection, set())
    if name not in done:
        # Counted as prepared before it runs: a PREPARE outlives the failure of what follows
        # it (and the transaction's rollback); a second PREPARE of the name would fail.
        done.add(name)
        execute = f"{prepare}; {execute}"
    return execute, [params[k] for k in order]


def _numbered(slots) -> dict:
    """The ``$n`` of each parameter that holds an id (``_slots``), one per id (list, index)."""
    number, first = {}, {}  # parameter index → $n; (list, index) → $n
    for k, (n, i) in slots:
        number[k] = first.setdefault((n, i), len(first) + 1)
    return number


def _server_side(conn, full_key, entry, id_lists) -> list:
    """Run ``by_ids``' statement as a prepared statement of the connection (``_execute``):
    the representation's union of a dozen parts was ~2.5 ms of planning for ~1.5 ms of
    execution."""
    _compiler, text, params, slots, _converters = entry
    params = _filled(params, slots, id_lists)
    statement, values = _execute(conn, full_key, text, params, _numbered(slots))
    with conn.cursor() as cursor:
        cursor.execute(statement, values)
        return cursor.fetchall()


@dataclasses.dataclass(frozen=True)
class Keyed:
    """A ``build`` for ``by_ids`` (which keeps a statement by its build too) equal to every other
    of the same ``key`` — a user's ``identity_key``, say, for a build that closes over the
    request's user: each request's closure is a new object, the statement the same."""

    key: Hashable
    build: Callable = dataclasses.field(compare=False, hash=False)

    def __call__(self, *id_lists):
        return self.build(*id_lists)


def by_ids(key: Hashable, build: Callable, *id_lists, using: str = DEFAULT_DB_ALIAS,
           server: bool = False) -> list[tuple]:
    """``list(build(*id_lists))`` for a ``values_list`` queryset whose only parameters that vary
    are the ids in ``id_lists`` (a page's incidents, say): its SQL compiled once per process
    for ``key`` (the caller's constants that decide the text) and each number of ids, with
    placeholder ids (negative, never a row's) whose positions among the parameters are then
    filled with the real ones; the rows converted as the ORM converts them. A statement whose
    placeholders cannot all be found among its parameters runs through the ORM every time.
    ``server``: on PostgreSQL, also planned once per connection (``_server_side``), the id
    lists padded with 0 (the statement must find nothing for it)."""
    conn = connections[using]
    if server and _on_server(conn):
        id_lists = [_padded(list(ids)) for ids in id_lists]
    else:
        server = False

    def make():
        holders = _holders(id_lists)
        compiler = build(*holders).query.get_compiler(using=using)
        text, params = compiler.as_sql()
        slots = _slots(params, holders)
        if slots is None:
            return _UNCACHEABLE
        fields = [column[0] for column in compiler.select[:compiler.col_count]]
        return compiler, text, tuple(params), slots, compiler.get_converters(fields)

    full_key = (using, conn.vendor, "ids", key, build, *map(len, id_lists))
    entry = _kept(full_key, make)
    if entry is _UNCACHEABLE:
        return list(build(*id_lists))
    compiler, text, params, slots, converters = entry
    if server:
        found = _server_side(conn, full_key, entry, id_lists)
    else:
        with conn.cursor() as cursor:
            cursor.execute(text, _filled(params, slots, id_lists))
            found = cursor.fetchall()
    return [tuple(row) for row in compiler.apply_converters(found, converters)] if converters else found


def instances_by_ids(key: Hashable, build: Callable, *id_lists, using: str = DEFAULT_DB_ALIAS) -> list:
    """``list(build(*id_lists))`` for a queryset of model instances — with their select_related
    objects, annotations and prefetches, as ``rows`` reads them — whose only parameters that
    vary are the ids in ``id_lists`` (one incident's rows, say): compiled once per process for
    ``key`` (everything else its text depends on: a user's ``identity_key``…) and each number
    of ids, with ``by_ids``'s placeholders; on PostgreSQL also planned once per connection
    (``_execute``), the ids its parameters. ``build`` must not read the clock. A statement
    whose placeholders cannot all be found runs through the ORM every time."""
    conn = connections[using]

    def make():
        holders = _holders(id_lists)
        built = build(*holders)
        compiler = built.query.get_compiler(using=using)
        try:
            text, params = compiler.as_sql()
        except EmptyResultSet:
            return Empty
        slots = _slots(params, holders)
        if slots is None:
            return _UNCACHEABLE
        return built, compiler, text, tuple(params), slots

    full_key = (using, conn.vendor, "instances", key, *map(len, id_lists))
    entry = _kept(full_key, make)
    if entry is Empty:
        return []
    if entry is _UNCACHEABLE:
        return list(build(*id_lists))
    built, compiler, text, params, slots = entry
    params = _filled(params, slots, id_lists)
    if _on_server(conn):  # planned once per connection, the ids its parameters (the case row: 1.1 ms of planning)
        text, params = _execute(conn, full_key, text, params, _numbered(slots))
    return _read(built, compiler, text, params, using)


_AMONG = "__prepared_among__"


def among(key: Hashable, build: Callable, keys: tuple[str, list], using: str = DEFAULT_DB_ALIAS,
          server: tuple[Hashable, dict] | None = None) -> list:
    """``list(build(subquery))`` — model instances with their select_related objects — where
    ``build(marker)`` filters its rows with ``pk__in=marker`` (a ``RawSQL``) and ``keys`` is
    the ``(sql, params)`` of the subquery of the keys to read (a page's, say): the rows'
    statement, whatever its joins and columns, compiled once per process for ``key``, the
    subquery's text put in place of the marker. A statement with parameters of its own runs
    through the ORM every time. ``server``: (the name of the subquery's text, ``{index of a
    parameter of the subquery that varies: its $n}``, the others constants of that name): on
    PostgreSQL, the statement planned once per connection (``_execute``)."""
    from django.db.models.expressions import RawSQL

    def make():
        queryset = build(RawSQL(_AMONG, ()))
        compiler = queryset.query.get_compiler(using=using)
        text, params = compiler.as_sql()
        if params or text.count(_AMONG) != 1:
            return _UNCACHEABLE
        return queryset, compiler, text

    entry = _kept((using, connections[using].vendor, "among", key, build), make)
    subquery, params = keys
    if entry is _UNCACHEABLE:
        return list(build(RawSQL(subquery, tuple(params))))
    queryset, kept, text = entry
    text, params = text.replace(_AMONG, subquery), list(params)
    if server is not None and _on_server(connections[using]):
        text, params = _execute(connections[using], ("among", key, build, server[0]), text, params, server[1])
    return _read(queryset, kept, text, params, using)


# Annotations compiled once per process (the case page's two dozen counts):
# ``Precompiled(model, build)`` stands for the expression ``build()`` returns — a subquery on the outer row, say — whose SQL depends on nothing but the models: it is built
# and compiled the first time a query on each database uses it, then reused as text with its
# parameters. The outer row is referred to by its table's name, so a precompiled expression
# annotates a query's own rows (never a query that is itself a subquery of another) and reads
# only that row's own columns (``OuterRef("pk")``; not a related row's, whose join the query
# may name differently or lack).
class Precompiled(Expression):
    """``build()``'s SQL and parameters, compiled once per database connection alias (so once per
    vendor: PostgreSQL and SQLite each get their own text) against a query on ``model``. Make
    one at import time and reuse it: the compiled text is kept on the instance (and shared by
    the copies a queryset makes of it)."""

    def __init__(self, model, build, output_field):
        super().__init__(output_field=output_field)
        self.model, self.build = model, build
        self.compiled = {}

    def as_sql(self, compiler, connection):
        found = self.compiled.get(connection.alias)
        if found is None:
            query = self.model._default_manager.annotate(precompiled=self.build()).query
            sql, params = query.get_compiler(connection=connection).compile(query.annotations["precompiled"])
            found = self.compiled[connection.alias] = (sql, tuple(params))
        return found

    def get_group_by_cols(self):
        return []


def sum_of_counts(counts, *, capped: bool = False) -> tuple[str, list] | None:
    """The sum of single-row ``COUNT`` querysets as one SQL expression and its parameters
    (``capped``: of the rows of sliced querysets, each counted as ``COUNT(*)`` over its
    ``LIMIT``); None when none can count a row (a filter that matches nothing, ``pk__in=[]``)."""
    compiled = []
    for count in counts:
        try:
            sql, params = count.query.get_compiler(count.db).as_sql()
        except EmptyResultSet:
            continue
        compiled.append((f"SELECT COUNT(*) FROM ({sql}) AS part" if capped else sql, params))
    if not compiled:
        return None
    return " + ".join(f"({sql})" for sql, _ in compiled), [p for _, params in compiled for p in params]


def sent_text(sql: str) -> str:
    """What a statement sent to the database stands for: one that ends in an ``EXECUTE`` of a
    statement prepared here (after its ``PREPARE``, or the request's ``SET LOCAL``s), the text
    prepared; any other, itself (for tests and diagnostics that read captured queries)."""
    found = re.search(r"EXECUTE (\w+)(?: \([^)]*\))?$", sql) if "EXECUTE " in sql else None
    if found is None:
        return sql
    for name, prepare, _order in list(_server.values()):
        if name == found.group(1):
            return re.match(r"PREPARE \w+(?: \([^)]*\))? AS (.*)", prepare, re.S).group(1).replace("%%", "%")
    return sql


def clear():
    """Forget every statement (tests that change how the ORM compiles)."""
    with _lock:
        _entries.clear()
        _server.clear()
