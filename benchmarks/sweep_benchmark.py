#!/usr/bin/env python
"""Benchmark of the deadline sweep (issue 4, item 7): a script that prints figures, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sentiment_bench \\
        .venv/bin/python benchmarks/sweep_benchmark.py

Only the server of DATABASE_URL is used: the script creates its own database (default
``sentiment_bench``, whatever database DATABASE_URL names), migrates it, seeds the demo
organisation and ``--deadlines`` open deadlines (default 100,000), and drops the database at
the end unless ``--keep``. It refuses anything but PostgreSQL.

Phases (every figure is printed):

1. idle sweep   — nothing due, every deadline open: wall time and SQL statements of one
                  ``process_deadlines()``;
2. throughput   — ``--due`` deadlines (default 10,000) whose 30-minute reminder is due at
                  once, swept by ONE ``process_deadlines()`` call: deadlines claimed per
                  second, notifications (and outbox deliveries) written per second;
2b. concurrent  — the same with ``--workers`` (default 2) process_deadlines() calls at once in
                  forked processes, as the Celery worker (--concurrency=2) runs overlapping
                  beat tasks; SKIP LOCKED shares the rows out;
3. lag          — another ``--due`` deadlines whose 30-minute reminders are spread evenly
                  over ``--window`` seconds of real time (database clock, as in production),
                  swept every SWEEP_INTERVAL_SECONDS the way beat does: reminder lag
                  fired − planned (planned = due_at − 30 min) p50/p95/p99/max, where fired is
                  the reminder's timeline event, and also as seen by readers (its batch's commit);
4. catch-up     — (skip with ``--no-catchup``) ``--due`` deadlines 3 h overdue with nothing
                  sent, as after an outage: the whole ladder (2 reminders, urge, supervise,
                  notify) and ``missed`` in one call.
5. slots        — (issue 10; skip with ``--responses 0``) ``--responses`` (default 1,000)
                  level II responses activated 24 h + 1 min ago whose two sections and the
                  command group have been silent since: ONE ``process_deadlines()`` call marks
                  every slot missed, opens the next (4 status slots per section, 2 briefings,
                  2 judgments per response), climbs the ladder and writes the digests; slots/s,
                  messages per person.

``--baseline TREE`` runs phase 2 (set-up included) once more, in a child process, with the
code of another checkout (``git worktree add /tmp/main-base <commit>``) on a database of its
own, and prints both single-sweep throughputs and their ratio. ``--tree TREE`` is how the
child is told whose code to import.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _tree() -> Path:
    """``--tree TREE``: the checkout whose code is measured (default: this one). Read before
    Django is imported, so that its packages are the ones on the path."""
    for i, arg in enumerate(sys.argv):
        if arg == "--tree" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if arg.startswith("--tree="):
            return Path(arg.split("=", 1)[1]).resolve()
    return Path(__file__).resolve().parent.parent


BASE_DIR = _tree()
sys.path.insert(0, str(BASE_DIR))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deadlines", type=int, default=100_000, help="open deadlines in all (default 100000)")
    p.add_argument("--due", type=int, default=10_000, help="deadlines falling due per phase (default 10000)")
    p.add_argument("--window", type=float, default=60.0,
                   help="seconds of real time over which the lag phase's reminders fall due (default 60)")
    p.add_argument("--interval", type=float, default=None,
                   help="seconds between sweeps in the lag phase (default: settings.SWEEP_INTERVAL_SECONDS)")
    p.add_argument("--members", type=int, default=3,
                   help="extra members per section, the first one its head (default 3)")
    p.add_argument("--no-email", action="store_true", help="members without email (no email outbox rows)")
    p.add_argument("--no-webhook", action="store_true", help="no group-robot URLs (no webhook outbox rows)")
    p.add_argument("--workers", type=int, default=2,
                   help="also measure throughput with this many concurrent sweeps, as the Celery worker's "
                        "--concurrency=2 runs overlapping tasks (default 2; 1 to skip)")
    p.add_argument("--no-catchup", action="store_true", help="skip the catch-up phase")
    p.add_argument("--db-name", default="sentiment_bench", help="the benchmark's own database (default sentiment_bench)")
    p.add_argument("--keep", action="store_true", help="keep the benchmark database at the end")
    p.add_argument("--responses", type=int, default=1000,
                   help="phase 5: active level II responses silent for 24 h (default 1000; 0 to skip)")
    p.add_argument("--baseline", default=None,
                   help="another checkout (e.g. a git worktree of the previous main): its single-sweep "
                        "throughput (phase 2) is measured in the same run and printed beside this one's")
    p.add_argument("--tree", default=None, help="the checkout whose code is measured (set for --baseline's child)")
    p.add_argument("--only-throughput", action="store_true", help="set-up and phase 2 only (--baseline's child)")
    args = p.parse_args()
    if args.due * n_phase_sets(args) > args.deadlines:
        p.error("--deadlines must hold the disjoint --due sets of every phase")
    if "bench" not in args.db_name:
        p.error("--db-name must contain 'bench' (the script drops it)")
    return args


# --- The benchmark's own database ------------------------------------------------------------

def server_url(db_name: str) -> tuple[str, dict]:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        sys.exit("sweep_benchmark: DATABASE_URL must point at PostgreSQL "
                 "(e.g. postgres://postgres@127.0.0.1:5432/sentiment_bench); refusing to run.")
    bench = urlunsplit((parts.scheme, parts.netloc, "/" + db_name, parts.query, parts.fragment))
    conn = {"host": parts.hostname or "localhost", "port": parts.port or 5432,
            "user": parts.username or "postgres", "password": parts.password, "dbname": "postgres"}
    return bench, conn


def create_database(conn_kwargs: dict, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(**conn_kwargs)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone():
            print(f"  dropping the leftover benchmark database {name}")
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


def drop_database(conn_kwargs: dict, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(**conn_kwargs)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()


# --- Figures ----------------------------------------------------------------------------------

def pct(values, p):
    """Nearest-rank percentile of a sorted list."""
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, -(-len(values) * p // 100) - 1))
    return values[int(k)]


def line(label, value):
    print(f"  {label:<44} {value}")


class Phase:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        print(f"\n== {self.name}")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        line("(phase wall time)", f"{time.perf_counter() - self.t0:.1f} s")


# --- Seeding ----------------------------------------------------------------------------------

def seed_organisation(args):
    import json

    from django.test import override_settings

    from organization import services
    from organization.models import Body, Section

    demo = json.loads((BASE_DIR / "fixtures" / "demo_organization.json").read_text(encoding="utf-8"))
    # Password hashing is not what is measured: a fast hasher for the seed users.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        services.unit_setup(preset="housing-002")
        for order, s in enumerate(demo["sections"]):
            services.section_ensure(code=s["code"], name=s["name"], order=order)
        for u in demo["users"]:
            user = services.user_ensure(username=u["username"], password=demo["password"],
                                        full_name=u["full_name"], roles=u.get("roles", []),
                                        is_superuser=u.get("superuser", False))
            for code in u.get("sections", []):
                services.section_add_member(section=Section.objects.get(code=code), user=user)
            for code in u.get("heads", []):
                services.section_add_member(section=Section.objects.get(code=code), user=user, head=True)
            for code in u.get("bodies", []):
                services.body_add_member(body=Body.objects.get(code=code), user=user)
        for section in Section.objects.all():
            for i in range(args.members):
                user = services.user_ensure(username=f"bench-{section.code}-{i}", password="bench",
                                            full_name=f"{section.name} 成员{i}")
                if not args.no_email:
                    user.email = f"bench-{section.code}-{i}@example.invalid"
                    user.save(update_fields=["email"])
                services.section_add_member(section=section, user=user, head=(i == 0))
    if not args.no_webhook:
        for s in Section.objects.all():
            s.webhook_url = f"https://robot.example.invalid/{s.code}"
            s.save(update_fields=["webhook_url"])
        Body.objects.filter(code="command").update(webhook_url="https://robot.example.invalid/command")
    from organization.models import User
    return Section.objects.count(), User.objects.count()


def seed_deadlines(args):
    """``--deadlines`` open rows, none due: due 1–30 days ahead, created an hour ago; the
    next action (the 30-minute reminder) computed by deadlines.sweep.schedule."""
    import datetime as dt
    import random

    from django.db import connection

    from deadlines.models import Deadline, Kind
    from deadlines.sweep import db_now, schedule
    from incidents.models import Incident
    from organization.models import Body, Section, UnitPolicy, User

    rng = random.Random(42)
    unit = UnitPolicy.current()
    now = db_now()
    sections = list(Section.objects.order_by("order"))
    command = Body.objects.get(code="command")
    reporter = User.objects.get(username="duty")
    per_incident = 10
    n_incidents = -(-args.deadlines // per_incident)
    incidents = Incident.objects.bulk_create(
        [Incident(title=f"压测事件 {i}", summary="用于期限引擎基准测试的事件。" * 4, channel="monitoring",
                  discovered_at=now - dt.timedelta(hours=2), reported_by=reporter)
         for i in range(n_incidents)], batch_size=2000)
    # Each incident: quick (info), flash, feedback (hard +24 h), briefing (command), and six
    # per-section rows (verification, status) over the sections.
    layout = ([(Kind.QUICK, "info", False), (Kind.FLASH, None, False), (Kind.FEEDBACK, None, True),
               (Kind.BRIEFING, None, False)]
              + [(Kind.VERIFICATION if j < 3 else Kind.STATUS, sections[j % len(sections)].code, False)
                 for j in range(6)])
    by_code = {s.code: s for s in sections}
    rows = []
    for n in range(args.deadlines):
        incident = incidents[n // per_incident]
        kind, section_code, hard = layout[n % per_incident]
        due = now + dt.timedelta(days=1) + dt.timedelta(seconds=rng.randrange(29 * 86400))
        d = Deadline(incident=incident, kind=kind,
                     owner_section=by_code.get(section_code) if section_code else None,
                     owner_body=None if section_code else command,
                     due_at=due, hard_due_at=due + dt.timedelta(hours=12) if hard else None,
                     created_at=now - dt.timedelta(hours=1))
        schedule(d, unit)
        rows.append(d)
    Deadline.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE deadlines_deadline")
        cur.execute("VACUUM ANALYZE incidents_incident")
    return n_incidents


def n_phase_sets(args):
    return 2 + (args.workers > 1) + (not args.no_catchup)


def pick_sets(args):
    """Disjoint random sets of deadline ids, one per phase: each the same mix of kinds and
    owners, spread over the whole table."""
    import random

    from deadlines.models import Deadline

    ids = list(Deadline.objects.order_by("pk").values_list("pk", flat=True))
    n_sets = n_phase_sets(args)
    chosen = random.Random(7).sample(ids, args.due * n_sets)
    return [sorted(chosen[i::n_sets]) for i in range(n_sets)]


def retime(ids, planned_sql: str, created_sql: str = "created_at", params=()):
    """Move deadlines ``ids`` so that their next action is the 30-minute reminder at
    ``planned_sql`` (an SQL expression over ``k``, the row's rank 0..n-1 in ``ids``)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"""
            WITH s AS (SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS k
                       FROM deadlines_deadline WHERE id = ANY(%s)),
                 t AS (SELECT id, ({planned_sql}) AS planned FROM s)
            UPDATE deadlines_deadline d
               SET due_at = t.planned + interval '30 minutes',
                   hard_due_at = CASE WHEN d.hard_due_at IS NULL THEN NULL
                                      ELSE t.planned + interval '30 minutes' + interval '12 hours' END,
                   created_at = {created_sql},
                   progress_at = NULL,
                   next_action_at = t.planned
              FROM t WHERE d.id = t.id
            """,
            [list(ids), *params])
        cur.execute("ANALYZE deadlines_deadline")


# --- Phases -----------------------------------------------------------------------------------

def idle_phase():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deadlines.sweep import process_deadlines

    process_deadlines()  # warm: the heartbeat row exists, the connection is open
    times = []
    for _ in range(50):
        t = time.perf_counter()
        stats = process_deadlines()
        times.append(time.perf_counter() - t)
        assert not stats.get("claimed"), stats
    times.sort()
    with CaptureQueriesContext(connection) as ctx:
        process_deadlines()
    line("idle sweep, median of 50", f"{statistics.median(times) * 1000:.2f} ms (max {times[-1] * 1000:.2f} ms)")
    line("SQL statements of one idle sweep", len(ctx.captured_queries))
    for q in ctx.captured_queries:
        print(f"      {q['time']:>6}s  {q['sql'][:200]}")
    # The plan of the sweep's own "anything due?" query, exactly as it was sent.
    probe = next(q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT"))
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + probe.replace("%", "%%"))
        plan = [r[0] for r in cur.fetchall()]
    print("      plan of the idle query:")
    for r in plan:
        print(f"        {r}")


def _sweeper(barrier, results):
    """A forked sweeper process: one process_deadlines() call, started with the others."""
    from django.db import connections

    from deadlines.sweep import process_deadlines

    barrier.wait()
    start = time.time()
    stats = process_deadlines()
    results.put((start, time.time(), stats))
    connections.close_all()


def throughput_phase(ids, workers=1):
    """Sweep ``ids`` (all due) with ``workers`` process_deadlines() calls at once (SKIP
    LOCKED shares the rows out, as the Celery worker's processes do with overlapping tasks)."""
    import multiprocessing

    from django.db import connections

    from deadlines.models import Notification
    from deadlines.sweep import BATCH, process_deadlines

    n_before = Notification.objects.count()
    if workers == 1:
        t = time.perf_counter()
        stats = process_deadlines()
        elapsed = time.perf_counter() - t
        per_worker = [stats.get("claimed", 0)]
    else:
        connections.close_all()  # the children must not share the parent's connection
        ctx = multiprocessing.get_context("fork")
        barrier, results = ctx.Barrier(workers), ctx.Queue()
        procs = [ctx.Process(target=_sweeper, args=(barrier, results)) for _ in range(workers)]
        for p in procs:
            p.start()
        outcomes = [results.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = max(e for _s, e, _st in outcomes) - min(s for s, _e, _st in outcomes)
        stats = {}
        for _s, _e, st in outcomes:
            for k, v in st.items():
                stats[k] = stats.get(k, 0) + v
        per_worker = [st.get("claimed", 0) for _s, _e, st in outcomes]
    claimed = stats.get("claimed", 0)
    line("deadlines due", len(ids))
    line(f"{workers} process_deadlines() call(s) at once", f"{elapsed:.2f} s ({-(-claimed // BATCH)} batches of ≤ {BATCH}"
         + (f"; claimed per process {per_worker}" if workers > 1 else "") + ")")
    line("claimed", f"{claimed}  → {claimed / elapsed:,.0f} deadlines/s")
    line("notifications written", f"{stats.get('notifications', 0)}  → {stats.get('notifications', 0) / elapsed:,.0f} /s")
    line("outbox deliveries written", f"{stats.get('deliveries', 0)}  → {stats.get('deliveries', 0) / elapsed:,.0f} /s")
    steps = {k: v for k, v in stats.items() if k not in ("claimed", "notifications", "deliveries")}
    line("steps fired", steps)
    written = Notification.objects.count() - n_before
    line("notification rows in the table (exactly once)", f"{written} (= written: {written == stats.get('notifications', 0)})")
    t = time.perf_counter()
    again = process_deadlines()
    line("a second sweep right after", f"claimed {again.get('claimed', 0)}, "
         f"{again.get('notifications', 0)} notifications, {(time.perf_counter() - t) * 1000:.1f} ms")
    return claimed / elapsed, stats


def lag_phase(ids, window, interval):
    import datetime as dt

    from django.db import connection

    from deadlines import sweep
    from deadlines.models import Deadline
    from deadlines.sweep import db_now, process_deadlines

    lead = 3.0
    n = len(ids)
    # Planned reminder k at t0 + k·window/n, on the database clock.
    t0 = db_now() + dt.timedelta(seconds=lead)
    retime(ids, "%s::timestamptz + make_interval(secs => k * %s::float8 / %s)",
           "%s::timestamptz - interval '1 hour'", params=[t0, window, n, t0])
    # Application clock vs database clock (fired is application time, planned database time).
    offsets = []
    for _ in range(5):
        a = time.time()
        d = db_now().timestamp()
        b = time.time()
        offsets.append(d - (a + b) / 2)
    line("database clock − application clock", f"{statistics.median(offsets) * 1000:+.2f} ms")
    line("reminders planned", f"{n} over {window:.0f} s ({n / window:,.0f}/s), sweep every {interval:g} s")

    sweeps = []  # (start, end, claimed) in application epoch seconds
    # A batch's notifications become visible when its transaction commits, i.e. when
    # _process_batch returns: note that moment (measurement only, behaviour unchanged).
    commits = []
    process_batch = sweep._process_batch

    def timed_batch(*a, **k):
        try:
            return process_batch(*a, **k)
        finally:
            commits.append(time.time())

    sweep._process_batch = timed_batch
    start = time.monotonic()
    end_at = start + lead + window + 3 * interval
    tick = start
    while True:
        pause = tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        s = time.time()
        stats = process_deadlines()
        e = time.time()
        sweeps.append((s, e, stats.get("claimed", 0)))
        tick += interval  # beat: one task per interval; a late one runs as soon as it can
        if time.monotonic() >= end_at:
            break
    sweep._process_batch = process_batch

    with connection.cursor() as cur:
        # Fired: the sweep's timeline event of the 30-minute reminder (written with its
        # notification; since issue 10 a digest's notification row names only its first item).
        cur.execute("""
            SELECT d.id, extract(epoch FROM d.due_at - interval '30 minutes'),
                   extract(epoch FROM min(e.at)),
                   d.progress_at >= d.due_at - interval '30 minutes'
              FROM deadlines_deadline d
              LEFT JOIN incidents_timelineevent e
                ON e.incident_id = d.incident_id AND e.verb = 'deadline_reminded'
               AND e.detail->>'deadline' = d.id::text AND e.detail->>'lead_minutes' = '30'
             WHERE d.id = ANY(%s) GROUP BY d.id""", [list(ids)])
        rows = cur.fetchall()
    # An owner without active members (a demo section nobody belongs to) gets no row:
    # not a missing reminder.
    audience = sweep.Audience()
    silent = {d.pk for d in Deadline.objects.filter(pk__in=ids) if not audience.owners(d)}
    fired = [(float(p), float(f)) for _id, p, f, _done in rows if f is not None]
    missing = sum(1 for i, _p, f, _done in rows if f is None and i not in silent)
    processed = sum(1 for *_x, done in rows if done)
    lags = sorted(f - p for p, f in fired)
    # As seen by a reader: a notification is visible when its batch commits.
    import bisect

    ends = sorted(commits)
    visible = sorted(ends[min(bisect.bisect_left(ends, f), len(ends) - 1)] - p for p, f in fired)
    durations = sorted(e - s for s, e, _c in sweeps)
    busy = sorted(e - s for s, e, c in sweeps if c)
    line("sweeps run", f"{len(sweeps)} ({len(busy)} with work); sweep time p50 {statistics.median(durations) * 1000:.0f} ms, "
         f"busy p50 {statistics.median(busy) * 1000 if busy else 0:.0f} ms, max {durations[-1] * 1000:.0f} ms")
    line("claimed per busy sweep, max", max(c for _s, _e, c in sweeps))
    line("reminder step processed (progress_at)", f"{processed} of {len(rows)}")
    line("reminders notified / owner without members / missing",
         f"{len(fired)} / {len(silent)} / {missing}")
    line("lag fired − planned (its timeline event)",
         f"p50 {pct(lags, 50):.2f} s  p95 {pct(lags, 95):.2f} s  p99 {pct(lags, 99):.2f} s  max {lags[-1]:.2f} s")
    line("lag committed − planned (batch commit)",
         f"p50 {pct(visible, 50):.2f} s  p95 {pct(visible, 95):.2f} s  p99 {pct(visible, 99):.2f} s  max {visible[-1]:.2f} s")
    early = sum(1 for x in lags if x < 0)
    line("fired before planned (must be 0)", early)
    return lags, missing


def slots_phase(n_responses):
    """Phase 5 (issue 10): ``n_responses`` level II responses activated 24 h + 1 min ago, two
    sections each, silent since: one sweep owes every slot."""
    import datetime as dt
    from collections import Counter

    from deadlines import policy
    from deadlines.models import Deadline, Kind, Notification
    from deadlines.sweep import db_now, process_deadlines, schedule
    from incidents.models import Incident
    from organization.models import Body, LevelPolicy, Section, UnitPolicy, User
    from responses.models import Response

    now = db_now()
    since = now - dt.timedelta(hours=24, minutes=1)
    unit, level = UnitPolicy.current(), LevelPolicy.for_level(2)
    reporter = User.objects.get(username="duty")
    sections = list(Section.objects.filter(code__in=["petition", "market"]))
    command = Body.objects.get(code="command")
    incidents = Incident.objects.bulk_create(
        [Incident(title=f"响应压测事件 {i}", summary="用于专报时段基准测试的事件。", channel="monitoring",
                  discovered_at=since - dt.timedelta(hours=1), reported_by=reporter, state="responding")
         for i in range(n_responses)], batch_size=2000)
    Response.objects.bulk_create([Response(incident=i, state="active", level=2, activated_at=since,
                                           level_since=since, reported_at=i.reported_at) for i in incidents], batch_size=2000)
    rows = []
    for incident in incidents:
        owners = [(Kind.STATUS, s, None) for s in sections] + [(Kind.BRIEFING, None, command),
                                                                 (Kind.JUDGMENT, None, command)]
        for kind, section, body in owners:
            d = Deadline(incident=incident, kind=kind, owner_section=section, owner_body=body,
                         due_at=policy.first_slot_due(kind, since, level), created_at=since)
            schedule(d, unit)
            rows.append(d)
    Deadline.objects.bulk_create(rows, batch_size=5000)
    first_ids = set(Deadline.objects.filter(incident__in=incidents).values_list("pk", flat=True))
    n_before = Notification.objects.count()
    t = time.perf_counter()
    stats = process_deadlines()
    elapsed = time.perf_counter() - t
    slots = Deadline.objects.filter(incident__in=incidents)
    missed = slots.filter(state="missed").count()
    opened = slots.exclude(pk__in=first_ids).count()
    line("responses (level II, 2 sections each)", f"{n_responses:,}, activated {since:%m-%d %H:%M} (24 h + 1 min ago)")
    line("one process_deadlines()", f"{elapsed:.2f} s")
    line("slots missed / opened by the sweep", f"{missed:,} / {opened:,}  → {opened / elapsed:,.0f} slots/s")
    line("missed status slots per section (expect 4)",
         f"{slots.filter(kind='status', state='missed').count() / (2 * n_responses):g}")
    line("claimed", f"{stats.get('claimed', 0):,}  → {stats.get('claimed', 0) / elapsed:,.0f} deadline rows/s")
    written = Notification.objects.filter(pk__gt=0).count() - n_before
    per_person = Counter(Notification.objects.filter(incident__in=incidents).values_list("recipient_id", flat=True))
    per_pair = Counter(Notification.objects.filter(incident__in=incidents)
                       .values_list("recipient_id", "incident_id"))
    line("messages written / outbox rows", f"{written:,} / {stats.get('deliveries', 0):,}")
    line("messages per person (people told)", f"mean {written / max(len(per_person), 1):,.0f}, "
         f"max {max(per_person.values(), default=0):,} ({len(per_person)} people)")
    line("messages per person and incident, max", max(per_pair.values(), default=0))
    bodies = Notification.objects.filter(incident__in=incidents).values_list("body", flat=True)
    repeated = sum(1 for b in bodies if len(b.splitlines()) != len(set(b.splitlines())))
    line("messages repeating a line (must be 0)", repeated)
    line("steps fired", {k: v for k, v in stats.items() if k not in ("claimed", "notifications", "deliveries")})
    return opened / elapsed


def baseline_run(args, tree: str) -> float | None:
    """Phase 2 with the code of ``tree``, in a child process on a database of its own."""
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--tree", tree, "--only-throughput",
           "--db-name", args.db_name + "_base", "--deadlines", str(args.deadlines), "--due", str(args.due),
           "--members", str(args.members), "--workers", "1", "--no-catchup"]
    cmd += ["--no-email"] if args.no_email else []
    cmd += ["--no-webhook"] if args.no_webhook else []
    print(f"\n== baseline: {tree}")
    # Run from the tree: Celery imports the apps' task modules with the working directory first
    # on sys.path (celery.utils.imports.cwd_in_path), which would import this checkout's.
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tree, env=dict(os.environ))
    for row in out.stdout.splitlines():
        print("  |" + row)
    if out.returncode:
        print(out.stderr[-3000:])
        return None
    rates = [float(r.split("=", 1)[1]) for r in out.stdout.splitlines() if r.startswith("RESULT throughput=")]
    return rates[-1] if rates else None


def main():
    args = parse_args()
    os.chdir(BASE_DIR)  # Celery imports task modules with the working directory first on sys.path
    bench_url, server = server_url(args.db_name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentiment_ops.settings")
    os.environ.setdefault("DEBUG", "0")
    print(f"sweep benchmark: {args.deadlines:,} open deadlines, {args.due:,} due per phase, "
          f"database {args.db_name} on {server['host']}:{server['port']}")
    wall = time.perf_counter()
    base_rate = baseline_run(args, args.baseline) if args.baseline and not args.only_throughput else None
    create_database(server, args.db_name)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, connections

        interval = args.interval if args.interval is not None else settings.SWEEP_INTERVAL_SECONDS
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
        from deadlines import sweep as measured

        line("code measured", str(Path(measured.__file__).resolve().parents[1]))
        line("PostgreSQL", version)
        line("DEADLINE_CLOCK / SWEEP_INTERVAL_SECONDS",
             f"{getattr(settings, 'DEADLINE_CLOCK', 'database')} / {settings.SWEEP_INTERVAL_SECONDS:g} s")
        from organization.models import UnitPolicy

        with Phase("set-up"):
            t = time.perf_counter()
            call_command("migrate", verbosity=0)
            line("migrate", f"{time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            n_sections, n_users = seed_organisation(args)
            unit = UnitPolicy.current()
            line("organisation", f"{n_sections} sections, {n_users} users ({time.perf_counter() - t:.1f} s)")
            line("ladder in use", f"remind {unit.reminder_leads_minutes} min before due, urge +{unit.urge_after_minutes}, "
                 f"supervise +{unit.supervise_after_minutes}, notify +{unit.notify_after_minutes} min; "
                 f"quiet hours {'on' if unit.quiet_hours_enabled else 'off'}")
            t = time.perf_counter()
            n_incidents = seed_deadlines(args)
            line("deadlines", f"{args.deadlines:,} open over {n_incidents:,} incidents ({time.perf_counter() - t:.1f} s)")
            sets = pick_sets(args)

        if not args.only_throughput:
            with Phase(f"1. idle sweep ({args.deadlines:,} open, none due)"):
                idle_phase()

        sets = iter(sets)
        with Phase(f"2. throughput: {args.due:,} 30-minute reminders due at once, one sweep"):
            ids = next(sets)
            retime(ids, "now() - interval '1 second'")
            rate, _stats = throughput_phase(ids, 1)
        if args.only_throughput:
            print(f"RESULT throughput={rate:.1f}")
            return

        rate_n = None
        if args.workers > 1:
            with Phase(f"2b. throughput: {args.due:,} reminders due at once, {args.workers} concurrent sweeps"):
                ids = next(sets)
                retime(ids, "now() - interval '1 second'")
                rate_n, _stats = throughput_phase(ids, args.workers)

        with Phase(f"3. lag: {args.due:,} reminders over {args.window:g} s, sweep every {interval:g} s"):
            lags, missing = lag_phase(next(sets), args.window, interval)

        catchup = None
        if not args.no_catchup:
            with Phase(f"4. catch-up: {args.due:,} deadlines 3 h overdue, nothing sent (whole ladder + missed)"):
                ids = next(sets)
                retime(ids, "now() - interval '3 hours 30 minutes'", "now() - interval '1 day'")
                catchup, _ = throughput_phase(ids, 1)

        slot_rate = None
        if args.responses:
            with Phase(f"5. slots: {args.responses:,} level II responses silent for 24 h + 1 min, one sweep"):
                slot_rate = slots_phase(args.responses)

        print("\n== summary")
        line("throughput (reminders, one sweep)", f"{rate:,.0f} due deadlines/s  (target ≥ 2,000: "
             f"{'met' if rate >= 2000 else 'NOT met'})")
        if rate_n is not None:
            line(f"throughput (reminders, {args.workers} sweeps at once)", f"{rate_n:,.0f} due deadlines/s  "
                 f"(target ≥ 2,000: {'met' if rate_n >= 2000 else 'NOT met'})")
        if catchup is not None:
            line("throughput (catch-up, whole ladder)", f"{catchup:,.0f} due deadlines/s")
        p99 = pct(lags, 99)
        line("reminder lag p50 / p99", f"{pct(lags, 50):.2f} s / {p99:.2f} s  (target p99 ≤ 5 s: "
             f"{'met' if p99 <= 5 and not missing else 'NOT met'})")
        if slot_rate is not None:
            line("slots (24 h of silence, one sweep)", f"{slot_rate:,.0f} slots opened/s")
        if args.baseline:
            line("single sweep, baseline " + Path(args.baseline).name,
                 f"{base_rate:,.0f} due deadlines/s" if base_rate else "failed (see above)")
            line("single sweep, this tree", f"{rate:,.0f} due deadlines/s")
            if base_rate:
                line("ratio this / baseline (must not fall below ~1)", f"{rate / base_rate:.2f}")
        line("total wall time", f"{time.perf_counter() - wall:.0f} s")
        connections.close_all()
    finally:
        if args.keep:
            print(f"\nkept database {args.db_name}")
        else:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001 - Django may not be set up
                pass
            drop_database(server, args.db_name)
            print(f"\ndropped database {args.db_name}")


if __name__ == "__main__":
    main()
