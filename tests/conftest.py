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


@pytest.fixture
def demo(db, settings):
    """The demo organisation of API.md."""
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    from organization.models import User

    return {u.username: u for u in User.objects.all()}


from .browser import chromium, open_as  # noqa: E402, F401  (browser fixtures for test_browser.py)
