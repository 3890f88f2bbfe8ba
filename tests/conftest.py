import pytest
from django.core.management import call_command


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
def demo(db, settings):
    """The demo organisation of API.md."""
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    from organization.models import User

    return {u.username: u for u in User.objects.all()}


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
