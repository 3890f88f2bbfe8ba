#!/usr/bin/env python
"""Page benchmark (issue 12): every page bounded — a script that prints figures, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/pages_benchmark.py --n 100000      # or: make bench-pages N=100000

Only the *server* of DATABASE_URL is used (PostgreSQL only). For each size (1,000 and N) the
script keeps a template database ``bench_pages_tpl_<size>``: created, migrated, the demo
organisation and <size> incidents seeded by bulk inserts (benchmarks/pages_seed.py: states,
levels, sections, ~5 deadlines and ~10 timeline events each, one incident with 500 events),
then VACUUM ANALYZE. A second run finds the template and does not seed again (``--reseed``
to rebuild it). Each run works on ``bench_pages_run``, a fresh copy of the template
(CREATE DATABASE … TEMPLATE), dropped at the end.

It prints, per page and per user (the command group, the petition section, a leader):

- the SQL queries of one request at 1,000 and at N (in-process, Django's test client), the
  HTML size at N, and the plan of the page's heaviest query at N (EXPLAIN ANALYZE; any
  sequential scan of a large table is flagged);
- p50/p95 over ``--requests`` (default 100) requests, one at a time, to gunicorn (``--workers``
  2, port ``--port`` 19100) at N, and each p95 as a multiple of the login page's p95
  measured in the same run. The requests are interleaved: each round asks for every page
  once, the login page among them, in an order shuffled per round, so that the yardstick
  and every page meet the machine in the same states (measured one page after another, a
  busy minute fell on whichever page it met — the login page's p95 moved from 2.1 to 9 ms
  between runs); ``--sequential`` measures them so, for comparison.
"""

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

PASSWORD = "demo-pass-2026"
SMALL = 1000
RUN_DB = "bench_pages_run"
TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
BIG_TABLES = ("incidents_incident", "incidents_timelineevent", "deadlines_deadline", "incidents_searchtoken",
              "incidents_assignment", "incidents_source", "warnings_noticereceipt", "deadlines_notification",
              "incidents_judgment")


def pages(big: int) -> list[tuple[str, str, str]]:
    """(user, label, path): the pages of the issue's table and a few more."""
    return [
        ("command", "dashboard /", "/"),
        ("command", "/todo/", "/todo/"),
        ("command", "incident list", "/incidents/"),
        ("command", "list ?q=物业 (2 chars)", "/incidents/?q=%E7%89%A9%E4%B8%9A"),
        ("command", "list ?q=拆迁补偿 (4 chars)", "/incidents/?q=%E6%8B%86%E8%BF%81%E8%A1%A5%E5%81%BF"),
        ("command", "list filtered", "/incidents/?state=responding&section=petition"),
        ("command", "detail (500 events)", f"/incidents/{big}/"),
        ("command", "/notifications/", "/notifications/"),
        # All time given explicitly: the page's default period is the role-by-role issue's to decide.
        ("command", "/accountability/ (all time)", "/accountability/?from=2000-01-01"),
        ("command", "/accountability/ (this month)", f"/accountability/?from={dt.date.today().replace(day=1)}"),
        ("command", "/accountability/ (30 days)", f"/accountability/?from={dt.date.today() - dt.timedelta(days=30)}"),
        ("command", "404 page", "/no-such-page/"),
        ("command", "API incident detail", f"/api/v1/incidents/{big}/"),
        ("command", "API incident list", "/api/v1/incidents/"),
        ("command", "API timeline page", f"/api/v1/incidents/{big}/timeline/"),
        ("petition", "dashboard /", "/"),
        ("petition", "/todo/", "/todo/"),
        ("petition", "incident list", "/incidents/"),
        ("petition", "/accountability/ (all time)", "/accountability/?from=2000-01-01"),
        ("petition", "/notifications/", "/notifications/"),
        ("petition", "API incident list", "/api/v1/incidents/"),
        ("leader", "dashboard /", "/"),
        ("leader", "/approvals/", "/approvals/"),
        ("leader", "incident list", "/incidents/"),
    ]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100_000, help="incidents of the large run (default 100000)")
    p.add_argument("--requests", type=int, default=100, help="timed requests per page (default 100)")
    p.add_argument("--sequential", action="store_true",
                   help="each page's requests back to back, the login page's first (the method before 2026-12-01)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--port", type=int, default=19100, help="gunicorn port (default 19100; a session passes its own)")
    p.add_argument("--run-db", default=RUN_DB,
                   help=f"name of the run's copy of the template, dropped at the end (default {RUN_DB})")
    p.add_argument("--reseed", action="store_true", help="rebuild the template databases")
    p.add_argument("--chunk", type=int, default=2000, help="incidents per seeding transaction (default 2000)")
    p.add_argument("--prepare", action="store_true", help="only build the template databases, then stop")
    p.add_argument("--counts-only", metavar="DB", help=argparse.SUPPRESS)
    p.add_argument("--seed-only", metavar="DB", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    return p.parse_args()


# --- databases ----------------------------------------------------------------------------

def server() -> dict:
    parts = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", ""))
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        sys.exit("pages_benchmark: DATABASE_URL must point at PostgreSQL; refusing to run.")
    return {"scheme": parts.scheme, "netloc": parts.netloc, "host": parts.hostname or "localhost",
            "port": parts.port or 5432, "user": parts.username or "postgres", "password": parts.password}


def db_url(srv: dict, name: str) -> str:
    return f"{srv['scheme']}://{srv['netloc']}/{name}"


def admin_sql(srv: dict, sql: str, fetch=False):
    import psycopg2  # here, not at the top: the parent process never loads Django's settings

    conn = psycopg2.connect(host=srv["host"], port=srv["port"], user=srv["user"], password=srv["password"],
                            dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if fetch else None
    finally:
        conn.close()


def exists(srv: dict, name: str) -> bool:
    return bool(admin_sql(srv, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", fetch=True))


def child(args: list[str], url: str, **env) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, __file__, *args], cwd=BASE_DIR, capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": url, "DEBUG": "0", "DEMO": "1", "REDIS_URL": "",
                                 **env})
    if result.returncode:
        sys.exit(f"pages_benchmark: {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result


def template(srv: dict, size: int, reseed: bool, chunk: int) -> str:
    """The template of ``size``: seeded under a temporary name and renamed when complete, so an
    interrupted seeding never leaves a half-filled template that a later run would reuse. A
    template seeded before newer migrations is still reused: each run migrates its copy."""
    name = f"bench_pages_tpl_{size}"
    if exists(srv, name) and not reseed:
        print(f"template {name}: reused (no seeding)")
        return name
    seeding = f"{name}_seeding"
    admin_sql(srv, f"DROP DATABASE IF EXISTS {seeding}")
    admin_sql(srv, f"CREATE DATABASE {seeding}")
    started = time.perf_counter()
    result = child(["--seed-only", seeding, "--size", str(size), "--chunk", str(chunk)], db_url(srv, seeding))
    print(result.stdout.strip())
    admin_sql(srv, f"DROP DATABASE IF EXISTS {name}")
    admin_sql(srv, f"ALTER DATABASE {seeding} RENAME TO {name}")
    print(f"template {name}: seeded in {time.perf_counter() - started:.0f} s")
    return name


def fresh_copy(srv: dict, tpl: str, run_db: str) -> str:
    if exists(srv, run_db):
        admin_sql(srv, f"DROP DATABASE {run_db}")
    admin_sql(srv, f"CREATE DATABASE {run_db} TEMPLATE {tpl}")
    return run_db


# --- in a child process: seed, or count queries --------------------------------------------

def django_setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentiment_ops.settings")
    os.environ["STATIC_MANIFEST"] = "0"
    import django  # here, not at the top: DATABASE_URL is the child's own, set before setup

    django.setup()


def seed_only(size: int, chunk: int):
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from benchmarks.pages_seed import seed

    # Imports above follow django.setup() (they load models), hence inside the function.
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", verbosity=0)
    totals: dict[str, int] = {}
    for start in range(0, size, chunk):
        with transaction.atomic():
            counts = seed(min(chunk, size - start), big_events=500 if start == 0 else 10, seed=start + 1)
        for label, n in counts.items():
            totals[label] = totals.get(label, 0) + n
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print("seeded: " + ", ".join(f"{label.split('.')[-1]} {n:,}" for label, n in sorted(totals.items())))


def counts_only(size: int):
    """One request per page in-process: queries, bytes, and the heaviest query's plan."""
    django_setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deadlines.tasks import compact_tallies
    from incidents.models import Incident
    from organization.models import User

    # Imports above follow django.setup() (they load models), hence inside the function.
    settings.ALLOWED_HOSTS = ["*"]
    # A template seeded before a newer migration catches up first: the reads below use its columns.
    call_command("migrate", verbosity=0)
    # The triggers' change logs — accountability's tallies and the incidents' count — folded as
    # the beat's ``compact-tallies`` does every minute on a running system (the seeding's
    # ~200,000 deadline inserts wrote ~200,000 log rows, and no beat runs here): the pages then
    # read the tallies and the count, as they would in service.
    compact_tallies()
    # A data migration (say, a flag set on every closed incident's receipts) leaves dead row
    # versions that turn index-only scans into heap reads: vacuumed as the seeding was.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    big = Incident.objects.order_by("pk").values_list("pk", flat=True).first()
    clients = {}
    for name in ("command", "petition", "leader"):
        clients[name] = Client()
        clients[name].force_login(User.objects.get(username=name))
    out = {"big": big, "incidents": Incident.objects.count(), "pages": {}}
    for user, label, path in pages(big):
        with CaptureQueriesContext(connection) as queries:
            response = clients[user].get(path)
        heaviest = {"ms": 0.0, "plan": "", "seq": []}
        for q in queries.captured_queries:
            sql = q["sql"].split("SET LOCAL jit = off; ")[-1]
            if sql.startswith("PREPARE "):  # planned once per connection (the API's): its EXECUTE
                sql = sql[sql.rindex("; EXECUTE ") + 2:]
            if not sql.lstrip().upper().startswith(("SELECT", "(SELECT", "EXECUTE")) or "django_session" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")  # as every request runs (RequestBudgetMiddleware)
                cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql)
                plan = [row[0] for row in cursor.fetchall()]
            ms = float(re.search(r"Execution Time: ([\d.]+)", plan[-1]).group(1))
            if ms >= heaviest["ms"]:
                seq = sorted({t for line in plan for t in BIG_TABLES if f"Seq Scan on {t}" in line})
                heaviest = {"ms": ms, "plan": "\n".join(plan), "seq": seq, "sql": sql[:300]}
        # The request's BEGIN and COMMIT (RequestBudgetMiddleware's transaction) are not queries
        # of the page: counted as tests/test_bounded_pages.py counts (inside a test's transaction).
        statements = [q for q in queries.captured_queries if q["sql"].split(" ", 1)[0] not in TRANSACTION]
        out["pages"][f"{user} {label}"] = {"status": response.status_code, "queries": len(statements),
                                           "bytes": len(response.content), "heaviest": heaviest}
    print(json.dumps(out))


# --- gunicorn and the timed requests -----------------------------------------------------------

class Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def login(self, username: str):
        _status, body = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.base + "/accounts/login/", data=data,
                                         headers={"Referer": self.base + "/accounts/login/"})
        with self.opener.open(request, timeout=60) as response:
            assert "/accounts/login/" not in response.url, f"login failed for {username}"


def timed(targets: list[tuple[str, Browser, str]], n: int, sequential: bool = False) -> dict[str, list[float]]:
    """The times of ``n`` requests of each (key, browser, path), interleaved: ``n`` rounds, each
    asking for every target once in an order shuffled (reproducibly) for the round;
    ``sequential``: each target's ``n`` back to back, in the targets' order."""
    for _key, browser, path in targets:
        for _ in range(3):  # warm-up: connections, caches, gunicorn workers
            browser.get(path)
    times = {key: [] for key, _browser, _path in targets}
    if sequential:
        rounds = [[target] * n for target in targets]
    else:
        rounds = []
        for round_ in range(n):
            order = list(targets)
            random.Random(round_).shuffle(order)
            rounds.append(order)
    for order in rounds:
        for key, browser, path in order:
            started = time.perf_counter()
            status, _body = browser.get(path)
            times[key].append(time.perf_counter() - started)
            assert status in (200, 404), (path, status)
    return times


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def serve(url: str, port: int, workers: int):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "DEMO": "1", "STATIC_MANIFEST": "0", "REDIS_URL": "",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "sentiment_ops.wsgi", "--bind",
                                f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "300",
                                "--log-level", "warning"], cwd=BASE_DIR, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2).read()
            return process, base
        except OSError:
            time.sleep(0.5)
    process.kill()
    sys.exit("pages_benchmark: gunicorn did not come up")


def main():
    args = parse_args()
    if args.seed_only:
        return seed_only(args.size, args.chunk)
    if args.counts_only:
        return counts_only(args.size)
    srv = server()
    results = {}
    if args.prepare:
        for size in sorted({SMALL, args.n}):
            template(srv, size, args.reseed, args.chunk)
        return
    for size in sorted({SMALL, args.n}):
        tpl = template(srv, size, args.reseed, args.chunk)
        run = fresh_copy(srv, tpl, args.run_db)
        output = child(["--counts-only", run, "--size", str(size)], db_url(srv, run)).stdout
        results[size] = json.loads(output.strip().splitlines()[-1])
    big = results[args.n]["big"]

    # Timings at N, against gunicorn, on the copy left by the last counts run.
    process, base = serve(db_url(srv, args.run_db), args.port, args.workers)
    try:
        browsers = {}
        for name in ("command", "petition", "leader"):
            browsers[name] = Browser(base)
            browsers[name].login(name)
        timings = timed([("login", Browser(base), "/accounts/login/"),
                         *((f"{user} {label}", browsers[user], path) for user, label, path in pages(big))],
                        args.requests, args.sequential)
        login_times = timings.pop("login")
    finally:
        process.terminate()
        process.wait(timeout=30)
        admin_sql(srv, f"DROP DATABASE IF EXISTS {args.run_db}")

    login_p95 = pct(login_times, 95)
    small, large = results[SMALL]["pages"], results[args.n]["pages"]
    print(f"\nincidents: {results[SMALL]['incidents']:,} and {results[args.n]['incidents']:,}; "
          f"{args.requests} requests per page, {'sequential' if args.sequential else 'interleaved'}, "
          f"gunicorn --workers {args.workers}")
    print(f"login page: p50 {pct(login_times, 50) * 1000:.1f} ms, p95 {login_p95 * 1000:.1f} ms\n")
    print(f"| page | user | SQL at {SMALL:,} | SQL at {args.n:,} | HTML KB | p50 ms | p95 ms | × login p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for user, label, _path in pages(big):
        key = f"{user} {label}"
        t = timings[key]
        print(f"| {label} | {user} | {small[key]['queries']} | {large[key]['queries']} | "
              f"{large[key]['bytes'] / 1024:.0f} | {pct(t, 50) * 1000:.1f} | {pct(t, 95) * 1000:.1f} | "
              f"{pct(t, 95) / login_p95:.1f} |")
    print("\nheaviest query of each page at N (EXPLAIN ANALYZE):")
    for key, page in large.items():
        heavy = page["heaviest"]
        flag = f"  SEQ SCAN on {', '.join(heavy['seq'])}" if heavy["seq"] else ""
        print(f"\n--- {key}: {heavy['ms']:.2f} ms{flag}\n{heavy.get('sql', '')}\n{heavy['plan']}")


if __name__ == "__main__":
    main()
