"""How the test database is set up (see README.md, "Tests").

* Every test hashes passwords with MD5: the production hasher (PBKDF2, 1,000,000
  iterations) would cost 0.76 s per demo user.
* The demo organisation (``seed_demo``) is written once per session, right after the test
  database is created. A plain ``db`` test runs in a transaction that is rolled back, so it
  starts from the seeded database and leaves it as it found it.
* A test that needs real transactions or a live server (``transaction=True``,
  ``transactional_db``, ``live_server``: browser, concurrency and integration tests) commits
  for real, and Django empties every table after it. Those tests run last (pytest-django
  orders them after the plain ones), and the ``pytest_runtest_teardown`` wrapper below seeds
  the demo organisation again right after the flush: whatever runs next, in any order, finds
  the demo organisation. Only those few tests pay for a re-seed.
* ``demo`` returns the demo users, ``api`` their API clients, ``web`` their browser
  sessions; ``unseeded`` removes the demo organisation inside a
  test's transaction, for tests of ``seed_demo`` itself.
"""

# Imports of Django models and of pytest-django internals are inside the hooks and fixtures
# below: this conftest is imported before pytest-django has configured Django.

import io

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def pytest_configure(config):
    # Before anything is hashed (the session seed, every test, the live server's thread).
    django_settings.PASSWORD_HASHERS = FAST_HASHERS
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


def seed_demo_organisation():
    # seed_demo runs only in demo mode.
    debug, demo = django_settings.DEBUG, django_settings.DEMO
    django_settings.DEBUG = django_settings.DEMO = True
    try:
        call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    finally:
        django_settings.DEBUG, django_settings.DEMO = debug, demo


_test_database = {"seeded": False}  # True while the session's test database exists, seeded
_ran = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, plus the demo organisation, once per session."""
    with django_db_blocker.unblock():
        seed_demo_organisation()
    _test_database["seeded"] = True
    yield
    _test_database["seeded"] = False  # the test database is dropped next


@pytest.fixture(autouse=True)
def _ran_setup(request):
    # A test skipped by its marks never gets here: its database was not flushed.
    request.node.stash[_ran] = True


def _flushes_database(item) -> bool:
    """Whether pytest-django ran ``item`` as a TransactionTestCase (tables emptied after it)."""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                   or (marker.args and marker.args[0])):
        return True
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        # Only on the session's test database (never the real one: a run whose database tests
        # were all skipped has none), and not after the last test (it is being dropped).
        if _test_database["seeded"] and item.stash.get(_ran, False) and _flushes_database(item):
            from django.db import connections
            from pytest_django.plugin import blocking_manager_key

            with item.config.stash[blocking_manager_key].unblock():
                seed_demo_organisation()
                # As Django's TransactionTestCase does after each test: otherwise this hook's
                # connection can outlive the session and block DROP DATABASE at the end.
                connections.close_all()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Tests render templates without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _application_clock(settings):
    # time-machine moves Python's clock, not PostgreSQL's: the sweep reads the application
    # clock in tests (test_deadline_engine.py checks the database clock on its own).
    settings.DEADLINE_CLOCK = "application"


@pytest.fixture(autouse=True)
def _long_sessions(settings):
    # Many tests walk simulated days (time-machine) with one login; the 8-hour production
    # default (SESSION_HOURS) and its expiry are checked in tests/test_doors.py.
    settings.SESSION_COOKIE_AGE = 30 * 24 * 3600


@pytest.fixture(autouse=True)
def _demo_mode(settings):
    # The suite runs in demo mode, as `make run` does (the demo users exist only there);
    # tests/test_doors.py turns it off to see seed_demo refuse and the deploy check fail.
    settings.DEMO = True


@pytest.fixture
def demo(db):
    """The demo organisation of API.md (seeded once per session): {username: User}."""
    from organization.models import User

    users = {u.username: u for u in User.objects.all()}
    if "duty" not in users:  # a test before this one emptied the tables without re-seeding
        seed_demo_organisation()
        users = {u.username: u for u in User.objects.all()}
    return users


@pytest.fixture
def api(demo):
    """The demo users' API clients (tests/api.py)."""
    from .api import Api

    return Api(demo)


@pytest.fixture
def web(demo):
    """``web("petition")``: a browser session logged in as a demo user (or any user), in
    Chinese, kept for the test."""
    from django.test import Client

    clients = {}

    def as_(user):
        user = demo[user] if isinstance(user, str) else user
        if user.username not in clients:
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            client.force_login(user)
            clients[user.username] = client
        return clients[user.username]

    return as_


@pytest.fixture
def unseeded(db):
    """The database as the migrations leave it: the session's demo organisation removed
    (inside the test's transaction, so it is back for the next test)."""
    from django.contrib.auth.models import Group

    from organization.models import (
        Body,
        BodyMembership,
        LevelPolicy,
        Section,
        SectionMembership,
        UnitPolicy,
        User,
        WorkCalendar,
    )

    # The policy first: it names the office section and each level's deciding body (PROTECT).
    for model in (LevelPolicy, UnitPolicy, SectionMembership, BodyMembership, User, Section, Group, Body,
                  WorkCalendar):
        model.objects.all().delete()


from .browser import chromium, open_as  # noqa: E402, F401  (browser fixtures for test_browser.py)


def pytest_terminal_summary(terminalreporter):
    """What the property-based API suite (test_api_properties.py) covered: answers per operation."""
    module = __import__("sys").modules.get("tests.test_api_properties")
    if module is None or not module.COVERED:
        return
    terminalreporter.section("property-based API suite: answers per operation")
    for operation, statuses in sorted(module.COVERED.items()):
        terminalreporter.write_line(f"{operation:55} " + " ".join(f"{s}×{n}" for s, n in sorted(statuses.items())))
    terminalreporter.write_line(f"{len(module.COVERED)} operations, {sum(sum(c.values()) for c in module.COVERED.values())} requests")
