"""The last thing `make run` prints: where the demo is and who can log in (after the web
server answers, so that it does not scroll away behind the start-up lines)."""

import signal
import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand

from organization.demo import fixture


class Command(BaseCommand):
    help = "Wait until the web server answers, print its URL and the demo logins, then wait."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument("--timeout", type=float, default=120)
        parser.add_argument("--no-wait", action="store_true", help="print and exit (honcho stops all when one exits)")

    def handle(self, *args, url, timeout, no_wait, **options):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url + "accounts/login/", timeout=2)  # noqa: S310 (our own server)
                time.sleep(3)  # after the worker's and the scheduler's start-up lines
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        demo = fixture()
        width = max(len(u["username"]) for u in demo["users"])
        lines = ["", "=" * 64, f"  sentiment_ops demo is ready:  {url}", "",
                 f"  every user's password: {demo['password']}"]
        lines += [f"    {u['username']:<{width}}  {u['full_name']}" for u in demo["users"]]
        lines += ["", "  Ctrl-C stops the web server, the worker and the scheduler.", "=" * 64, ""]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        if not no_wait:
            signal.pause()
