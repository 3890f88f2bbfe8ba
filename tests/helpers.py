"""Shared test helpers: a real Celery worker process on the test database, over a Redis
database of the integration tests' own; a group robot."""

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection, transaction

from sentiment_ops.celery import app

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database the test run is using (the test database, not the real one)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def integration_redis_url() -> str:
    """REDIS_URL with the database number moved by 8 (or TEST_REDIS_DB): the integration
    tests' broker traffic never shares the database the application and its cache use."""
    base, _, db = settings.REDIS_URL.rpartition("/")
    db = db.split("?")[0]
    number = os.environ.get("TEST_REDIS_DB") or str(((int(db) if db.isdigit() else 0) + 8) % 16)
    return f"{base}/{number}"


@contextlib.contextmanager
def private_redis():
    """``(url, prefix)``: the integration Redis database and a key prefix of this test's own
    (CELERY_KEY_PREFIX for the worker and beat). On exit exactly the keys under that prefix
    are deleted; nothing is ever flushed."""
    url = integration_redis_url()
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    try:
        yield url, prefix
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def broker_connection(url: str, prefix: str):
    """A connection to publish on the worker's broker (same database, same key prefix)."""

    return app.connection_for_write(url, transport_options={"global_keyprefix": prefix})


@contextlib.contextmanager
def celery_process(kind: str = "worker", *extra: str, queue: str | None = None, redis_url: str | None = None,
                   key_prefix: str = "", env_extra: dict | None = None):
    """Run ``celery -A sentiment_ops <kind>`` against the test database and ``redis_url``
    (under ``key_prefix``), on a queue of its own so that no other worker takes its tasks."""
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url or settings.REDIS_URL,
           "CELERY_KEY_PREFIX": key_prefix, "DJANGO_SETTINGS_MODULE": "sentiment_ops.settings",
           **(env_extra or {})}
    args = [sys.executable, "-m", "celery", "-A", "sentiment_ops", kind, "--loglevel=INFO"]
    if kind == "worker":
        args += ["--pool=solo", "-Q", queue, "--without-gossip", "--without-mingle", "-n", f"{queue}@%h"]
    if kind == "beat":
        args += ["--pidfile="]
    proc = subprocess.Popen(args + list(extra), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield queue, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate, timeout: float = 60, interval: float = 0.25):
    """Poll until ``predicate()`` is truthy (waiting on another process, never on a clock rule)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@contextlib.contextmanager
def uncommitted(work):
    """``work()`` run in a transaction of another thread (its own database connection), held
    open for the ``with`` block and committed at its end; what it raised is raised after."""
    written, go_on, errors = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic():
                work()
                written.set()
                assert go_on.wait(60)
        except Exception as exc:  # noqa: BLE001 - raised in the test's thread
            errors.append(exc)
        finally:
            written.set()
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    written.wait(60)
    try:
        yield
    finally:
        go_on.set()
        thread.join(60)
    if errors:
        raise errors[0]


def beside_compactions(writers, compact, compactors: int = 2) -> list[Exception]:
    """Run each of ``writers`` in a thread of its own beside ``compactors`` threads calling
    ``compact`` until the writers are done (the triggers' change logs: deadlines/tallies.py,
    incidents/counted.py), each thread on its own database connection, closed after; returns
    what any of them raised."""
    done, errors = threading.Event(), []

    def guarded(work):
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connection.close()

    def compacting():
        while not done.is_set():
            compact()

    writing = [threading.Thread(target=guarded, args=(work,)) for work in writers]
    compacting_ = [threading.Thread(target=guarded, args=(compacting,)) for _ in range(compactors)]
    for thread in writing + compacting_:
        thread.start()
    for thread in writing:
        thread.join(120)
    done.set()
    for thread in compacting_:
        thread.join(120)
    return errors


class Robot:
    """A group-robot endpoint on 127.0.0.1 that records what it receives."""

    def __init__(self, port: int = 0):
        self.received, self.replies, self.paths, self.message_ids = [], [], [], []
        self.on_receive = None  # called while the request is being answered
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.received.append(json.loads(body))
                robot.paths.append(self.path)
                robot.message_ids.append(self.headers.get("X-Message-Id"))
                if robot.on_receive is not None:
                    robot.on_receive()
                status, reply = robot.replies.pop(0) if robot.replies else (200, {"errcode": 0, "errmsg": "ok"})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(reply).encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()  # free the port for the next test
