#!/usr/bin/env python
"""Chaos run of the deadline engine (issue 14, item 7): a script that prints figures, not a test.

    nice -n 10 .venv/bin/python benchmarks/chaos.py            # about 16 minutes

It creates, in a temporary directory, a PostgreSQL cluster (initdb from /usr/lib/postgresql/*/bin)
and a Redis of its own on ports 19310 and 19311, and a webhook receiver on 19312 that records
every POST with its ``X-Message-Id`` (the outbox row's dedupe key). The machine's shared
PostgreSQL and Redis are never touched. Then, as in production (docker-compose.yml): a Celery
worker (``--concurrency=2``) and Celery beat (sweep every SWEEP_INTERVAL_SECONDS = 2 s).

``--deadlines`` (default 10,000) deadlines fall due over ``--window`` seconds (default 600),
starting 120 s after the start; the policy reminds 5 minutes before the due time and urges at
it (supervise and notify fall after the run). Each step of each deadline writes its in-app
notices and one group-robot webhook to the owning section's URL (the receiver).

Faults, at seconds after the start (all while deadlines are falling due):
  150  kill -9 the worker while it sweeps (it is restarted 5 s later)
  270  restart Redis (stopped, 5 s down, started)
  390  restart PostgreSQL (pg_ctl restart -m fast)
  480  stop beat for 180 s (SIGTERM), then start it again

Afterwards: per deadline and step, what was owed (every step whose planned time fell before the
end of the window), what the engine recorded (notices, outbox rows) and what the receiver got:
missed, duplicates after dedupe by message id, resends at the wire (at-least-once), and the
lag planned → received, overall and after each fault.
"""

import argparse
import collections
import datetime as dt
import glob
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PG_PORT, REDIS_PORT, HOOK_PORT = 19310, 19311, 19312
PY = sys.executable


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deadlines", type=int, default=10_000)
    p.add_argument("--window", type=float, default=600.0, help="seconds over which the deadlines fall due")
    p.add_argument("--lead", type=float, default=120.0, help="seconds from the start to the first due time")
    p.add_argument("--drain", type=float, default=300.0, help="at most this long for the outbox to empty after")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every fault time (a short trial: 0.2)")
    return p.parse_args()


def say(msg):
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {msg}", flush=True)


# --- servers of its own --------------------------------------------------------------------

class Receiver(http.server.BaseHTTPRequestHandler):
    arrivals: list = []  # (message id, monotonic-free wall time)
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        with self.lock:
            Receiver.arrivals.append((self.headers.get("X-Message-Id", ""), time.time()))
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Cluster:
    """A throwaway cluster; PostgreSQL refuses to run as root, so as root its programs run as
    the ``postgres`` system user in a directory of its own."""

    def __init__(self, root: Path):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            sys.exit("chaos: no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1])
        home = root / "postgres"
        home.mkdir()
        self.as_user = []
        if os.geteuid() == 0:
            root.chmod(0o755)
            shutil.chown(home, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = home / "data"
        self.log = home / "server.log"
        self.run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self.run("sh", "-c", f"printf \"port = {PG_PORT}\\nlisten_addresses = '127.0.0.1'\\n"
                             f"unix_socket_directories = '{home}'\\nmax_connections = 50\\n\" "
                             f">> {self.data}/postgresql.conf")

    def run(self, *args):
        subprocess.run([*self.as_user, *map(str, args)], check=True, stdout=subprocess.DEVNULL)

    def ctl(self, *args):
        self.run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", *args)


class Redis:
    def __init__(self, root: Path):
        self.dir = root / "redis"
        self.dir.mkdir()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                      "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
                                      "--save", "", "--maxmemory-policy", "noeviction"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def celery(kind: str, env, root: Path):
    args = [PY, "-m", "celery", "-A", "sentiment_ops", kind, "--loglevel=WARNING"]
    if kind == "worker":
        args += ["--concurrency=2", "-n", "chaos@%h"]
    else:
        args += ["--pidfile=", "-s", str(root / "beat-schedule")]
    log = open(root / f"{kind}.log", "a")  # noqa: SIM115 (the child keeps it open for its lifetime)
    return subprocess.Popen(args, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


# --- seeding and figures (in this process, through Django) ---------------------------------

def seed(args, start: float):
    from django.test import override_settings

    from deadlines.models import Deadline, Kind
    from deadlines.sweep import schedule
    from incidents.models import Incident
    from organization import services
    from organization.models import Section, UnitPolicy, User

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        services.unit_setup(preset="housing-002")
        for order, (code, name) in enumerate([("office", "局办公室"), ("info", "信息中心"), ("petition", "信访科"),
                                              ("market", "房地产市场科"), ("housing", "住房保障科")]):
            section = services.section_ensure(code=code, name=name, order=order)
            head = services.user_ensure(username=f"head-{code}", password="chaos", full_name=f"{name}负责人")
            services.section_add_member(section=section, user=head, head=True)
            Section.objects.filter(pk=section.pk).update(webhook_url=f"http://127.0.0.1:{HOOK_PORT}/robot/{code}")
        reporter = services.user_ensure(username="duty", password="chaos", full_name="值班员", roles=["duty_officer"])
    unit = UnitPolicy.current()
    unit.reminder_leads_minutes, unit.urge_after_minutes = "5", 0
    unit.supervise_after_minutes, unit.notify_after_minutes = 60, 120
    unit.save()
    sections = list(Section.objects.order_by("order"))
    now = dt.datetime.fromtimestamp(start, dt.UTC)
    incidents = Incident.objects.bulk_create(
        [Incident(title=f"混沌测试事件 {i}", summary="期限引擎故障演练。", channel="monitoring",
                  discovered_at=now - dt.timedelta(hours=2), reported_by=reporter)
         for i in range(-(-args.deadlines // 10))], batch_size=1000)
    rows = []
    for n in range(args.deadlines):
        due = now + dt.timedelta(seconds=args.lead + args.window * n / args.deadlines)
        d = Deadline(incident=incidents[n // 10], kind=Kind.VERIFICATION, owner_section=sections[n % len(sections)],
                     due_at=due, created_at=now - dt.timedelta(hours=1))
        schedule(d, unit)
        rows.append(d)
    Deadline.objects.bulk_create(rows, batch_size=2000)
    return User.objects.count()


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(-(-len(values) * p // 100)) - 1))]


def figures(args, start: float, faults: list[tuple[str, float, float]]):
    from django.db import connection

    from deadlines.models import Deadline, Delivery, Notification

    connection.close()
    end_of_window = dt.datetime.fromtimestamp(start + args.lead + args.window, dt.UTC)
    owed = {}
    for pk, due in Deadline.objects.values_list("pk", "due_at"):
        for step, planned in (("remind", due - dt.timedelta(minutes=5)), ("urge", due)):
            if planned <= end_of_window:
                owed[(pk, step)] = max(planned.timestamp(), start)
    fired = {}
    for d, step, at in Notification.objects.filter(deadline__isnull=False).values_list("deadline", "step", "created_at"):
        key = (d, step)
        fired[key] = min(fired.get(key, at.timestamp()), at.timestamp())
    keys = {}
    for key, state, attempts in Delivery.objects.filter(channel="webhook").values_list("key", "state", "attempts"):
        keys[key] = (state, attempts)
    arrivals = collections.defaultdict(list)
    for message_id, at in Receiver.arrivals:
        arrivals[message_id].append(at)

    # one webhook per (deadline, step): webhook:<deadline>:<step>:<sequence>:<section>
    by_step = collections.defaultdict(list)
    for key in keys:
        _, pk, step, _seq, _code = key.split(":")
        by_step[(int(pk), step)].append(key)
    missed_engine = [k for k in owed if k not in fired]
    missed_wire = [k for k in owed if not any(arrivals.get(m) for m in by_step.get(k, []))]
    duplicate_rows = sum(1 for k, ms in by_step.items() if len(ms) > 1)
    per_recipient = Notification.objects.filter(deadline__isnull=False).values_list("deadline", "step", "recipient")
    dup_recipient = sum(n - 1 for n in collections.Counter(per_recipient).values() if n > 1)
    resends = sum(len(v) - 1 for v in arrivals.values() if len(v) > 1)
    unknown = sum(1 for m in arrivals if m not in keys)
    lag_engine = [fired[k] - owed[k] for k in owed if k in fired]
    received = {}
    for k in owed:
        times = [min(arrivals[m]) for m in by_step.get(k, []) if arrivals.get(m)]
        if times:
            received[k] = min(times)
    lag_wire = [received[k] - owed[k] for k in received]

    print("\n== chaos run: figures")
    line("deadlines", args.deadlines)
    line("steps owed by the end of the window", len(owed))
    line("steps recorded by the engine (notices)", sum(1 for k in owed if k in fired))
    line("steps missed by the engine", len(missed_engine))
    line("webhooks owed (one per step)", len(owed))
    line("webhooks received (distinct message ids)", sum(1 for m in arrivals if m in keys))
    line("steps missed at the receiver", len(missed_wire))
    line("duplicates after dedupe (2+ outbox rows per step)", duplicate_rows)
    line("duplicate notices (same deadline, step, person)", dup_recipient)
    line("resends at the wire (same message id again)", resends)
    line("POSTs with an unknown message id", unknown)
    states = collections.Counter(s for s, _ in keys.values())
    line("outbox rows by state", dict(states))
    line("outbox attempts > 1", sum(1 for _, a in keys.values() if a > 1))
    line("lag planned → recorded p50/p95/max (s)",
         f"{pct(lag_engine, 50):.1f} / {pct(lag_engine, 95):.1f} / {max(lag_engine, default=float('nan')):.1f}")
    line("lag planned → received p50/p95/max (s)",
         f"{pct(lag_wire, 50):.1f} / {pct(lag_wire, 95):.1f} / {max(lag_wire, default=float('nan')):.1f}")
    print("\n== lag after each fault (steps planned from the fault until 60 s after it recovered)")
    for name, at, back in faults:
        window = [received[k] - owed[k] for k in received if at <= owed[k] <= back + 60]
        engine = [fired[k] - owed[k] for k in fired if k in owed and at <= owed[k] <= back + 60]
        line(f"{name} (t+{at - start:.0f}s, {back - at:.0f}s down)",
             f"{len(window)} steps; recorded max {max(engine, default=float('nan')):.1f} s, "
             f"received p50 {pct(window, 50):.1f} s / max {max(window, default=float('nan')):.1f} s")
    return len(missed_engine), len(missed_wire), duplicate_rows + dup_recipient


def line(label, value):
    print(f"  {label:<52} {value}", flush=True)


# --- the run -------------------------------------------------------------------------------

def main():
    args = parse_args()
    root = Path(tempfile.mkdtemp(prefix="sentiment-chaos-"))
    say(f"working directory {root}")
    cluster = Cluster(root)
    cluster.ctl("start")
    subprocess.run([cluster.bin / "createdb", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "chaos"],
                   check=True)
    redis = Redis(root)
    redis.start()
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/chaos",
           "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0", "DEBUG": "0", "DEMO": "0",
           "SECRET_KEY": "chaos-" + os.urandom(24).hex(), "SWEEP_INTERVAL_SECONDS": "2",
           "DEADLINE_CLOCK": "database", "VAR_DIR": str(root / "var"), "CONN_MAX_AGE": "60",
           "DJANGO_SETTINGS_MODULE": "sentiment_ops.settings", "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    sys.path.insert(0, str(BASE_DIR))
    subprocess.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    import django

    django.setup()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    procs = {}
    faults = []
    try:
        start = time.time()
        users = seed(args, start)
        say(f"seeded {args.deadlines} deadlines ({users} users); first due at t+{args.lead:.0f}s, "
            f"last at t+{args.lead + args.window:.0f}s")
        from django.db import connection
        connection.close()
        procs["worker"] = celery("worker", env, root)
        procs["beat"] = celery("beat", env, root)

        def at(t):
            time.sleep(max(0.0, start + t * args.scale - time.time()))

        at(150)
        t0 = time.time()
        os.killpg(procs["worker"].pid, signal.SIGKILL)
        procs["worker"].wait()
        say("worker killed (kill -9, the whole process group)")
        time.sleep(5)
        procs["worker"] = celery("worker", env, root)
        faults.append(("kill -9 worker", t0, time.time()))

        at(270)
        t0 = time.time()
        redis.stop()
        say("Redis stopped")
        time.sleep(5)
        redis.start()
        faults.append(("restart Redis", t0, time.time()))
        say("Redis started")

        at(390)
        t0 = time.time()
        cluster.ctl("restart", "-m", "fast")
        faults.append(("restart PostgreSQL", t0, time.time()))
        say("PostgreSQL restarted")

        at(480)
        t0 = time.time()
        procs["beat"].terminate()
        procs["beat"].wait()
        say("beat stopped for 180 s")
        time.sleep(180 * args.scale)
        procs["beat"] = celery("beat", env, root)
        faults.append(("beat stopped", t0, time.time()))
        say("beat started")

        end = start + args.lead + args.window
        time.sleep(max(0.0, end - time.time()) + 30)
        from deadlines.models import Delivery
        deadline = time.time() + args.drain
        while time.time() < deadline:
            connection.close()
            pending = Delivery.objects.filter(state="pending").count()
            if pending == 0:
                break
            say(f"draining the outbox: {pending} pending")
            time.sleep(10)
        say(f"run over after {time.time() - start:.0f} s")
        missed_engine, missed_wire, duplicates = figures(args, start, faults)
        print(f"\nRESULT missed(engine)={missed_engine} missed(receiver)={missed_wire} duplicates={duplicates}")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        server.shutdown()
        try:
            from django.db import connections
            connections.close_all()
        finally:
            redis.stop()
            cluster.ctl("stop", "-m", "fast")
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
