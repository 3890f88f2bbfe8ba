"""The demo unit (fixtures/demo_organization.json) and demo mode: the published demo password
may exist only while ``DEMO=1`` (``make run`` sets it). ``seed_demo`` refuses outside demo mode,
and the deploy check ``organization.E001`` fails while any user still has the demo password."""

import json
from functools import cache

from django.conf import settings

from . import presets

FIXTURE = settings.BASE_DIR / "fixtures" / "demo_organization.json"
# The demo users of each preset's shape (``seed_demo --preset``); one demo password for all.
FIXTURES = {presets.HOUSING_002.key: FIXTURE,
            presets.JUSTICE_000.key: settings.BASE_DIR / "fixtures" / "demo_organization_justice.json"}


@cache
def fixture(preset: str = presets.DEFAULT) -> dict:
    return json.loads(FIXTURES[preset].read_text(encoding="utf-8"))


def demo_password() -> str:
    return fixture()["password"]


def users_with_demo_password(users) -> list[str]:
    """The usernames among ``users`` whose password is the published demo password (one hash
    per user with a usable password: run by the deploy check, not per request)."""
    password = demo_password()
    return [u.username for u in users if u.has_usable_password() and u.check_password(password)]
