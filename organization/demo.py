"""The demo unit (fixtures/demo_organization.json) and demo mode: the published demo password
may exist only while ``DEMO=1`` (``make run`` sets it). ``seed_demo`` refuses outside demo mode,
and the deploy check ``organization.E001`` fails while any user still has the demo password."""

import hashlib
import json
from functools import cache as memoize

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import presets
from .models import User

FIXTURE = settings.BASE_DIR / "fixtures" / "demo_organization.json"
# The demo users of each preset's shape (``seed_demo --preset``); one demo password for all.
FIXTURES = {presets.HOUSING_002.key: FIXTURE,
            presets.JUSTICE_000.key: settings.BASE_DIR / "fixtures" / "demo_organization_justice.json"}


@memoize
def fixture(preset: str = presets.DEFAULT) -> dict:
    return json.loads(FIXTURES[preset].read_text(encoding="utf-8"))


def demo_password() -> str:
    return fixture()["password"]


def users_with_demo_password(users) -> list[str]:
    """The usernames among ``users`` whose password is the published demo password (one hash
    per user with a usable password: run by the deploy check, not per request)."""
    password = demo_password()
    return [u.username for u in users if u.has_usable_password() and u.check_password(password)]


# --- Who still uses the demo password, cheaply (the first-run checklist) -------------------
# Checking a password hash costs what its hasher costs (PBKDF2: 0.76 s), too much for a page
# listing every account. The verdict is therefore kept per password HASH in the cache: written
# for free whenever a password is set and saved (``set_password`` leaves the raw password on the
# instance: ``_remember_verdict``), and for the other
# hashes by an explicit check (``demo_password_scan``, the checklist's button). A changed
# password is a new hash, so a verdict never goes stale.

VERDICT_TTL = 3600 * 24 * 400


def _verdict_key(password_hash: str) -> str:
    return "demo-password:" + hashlib.sha256(password_hash.encode()).hexdigest()


@receiver(post_save, sender=User)
def _remember_verdict(sender, instance, raw=False, **kwargs):
    raw_password = getattr(instance, "_password", None)
    if not raw and raw_password is not None and instance.password:
        cache.set(_verdict_key(instance.password), raw_password == demo_password(), VERDICT_TTL)


def demo_password_status(users) -> tuple[list[str], int]:
    """(usernames known to have the demo password, how many accounts are not checked yet)
    among ``users`` — from the cache, one round trip."""
    users = [u for u in users if u.has_usable_password()]
    verdicts = cache.get_many([_verdict_key(u.password) for u in users])
    found = [u.username for u in users if verdicts.get(_verdict_key(u.password))]
    unknown = sum(1 for u in users if _verdict_key(u.password) not in verdicts)
    return found, unknown


def demo_password_scan(users) -> list[str]:
    """Check every account not checked yet (one hash each) and remember the verdicts."""
    users = [u for u in users if u.has_usable_password()]
    known = cache.get_many([_verdict_key(u.password) for u in users])
    password, found = demo_password(), []
    for user in users:
        key = _verdict_key(user.password)
        # The hashers' function, not the user's method: no re-hash (a new hash) as a side effect.
        verdict = known[key] if key in known else check_password(password, user.password)
        cache.set(key, verdict, VERDICT_TTL)
        if verdict:
            found.append(user.username)
    return found
