"""Every page costs what it shows, not what the database holds (issue 12): the same number of
SQL queries with a small history and with one ten times larger, for the command group, a
section and a leader; and at most ``MAX_QUERIES`` each. Counts, never times (the timings are
benchmarks/pages_benchmark.py's)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks.pages_seed import seed
from incidents.models import Incident

MAX_QUERIES = 12


def ceiling(name, url) -> int:
    return MAX_QUERIES
SMALL, LARGE = 40, 400

PAGES = {
    "command": ["/", "/todo/", "/incidents/", "/incidents/?q=小区", "/incidents/?q=网民反映&open=1",
                "/incidents/?state=responding&section=petition", "/accountability/", "/notifications/",
                "/no-such-page/"],
    "petition": ["/", "/todo/", "/incidents/", "/incidents/?q=问", "/accountability/", "/notifications/"],
    "leader": ["/", "/approvals/", "/incidents/", "/incidents/?q=题 问题", "/accountability/"],
    # The other homes (issue 15): each role's parts, and the lists their counts link to.
    "duty": ["/", "/incidents/?mine=true"],
    "infohead": ["/"],
    "auditor": ["/", "/incidents/?state=closed&from=2026-01-01&to=2026-12-31"],
    "admin": ["/"],
}
PAGES["command"] += ["/incidents/?awaiting=judgment", "/incidents/?awaiting=approval", "/incidents/?owing=overdue"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _costs(clients) -> dict:
    costs = {}
    for name, urls in PAGES.items():
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                response = clients[name].get(url)
            assert response.status_code in (200, 404), (name, url, response.status_code)
            costs[(name, url)] = len(queries)
    return costs


@pytest.mark.django_db
def test_pages_cost_the_same_queries_at_two_sizes(demo):
    clients = {name: _client(demo[name]) for name in PAGES}
    seed(SMALL, big_events=50, seed=1)
    small = _costs(clients)
    seed(LARGE - SMALL, big_events=50, seed=2)
    assert Incident.objects.count() == LARGE
    large = _costs(clients)
    assert large == small
    over = {k: v for k, v in large.items() if v > ceiling(*k)}
    assert not over, over


@pytest.mark.django_db
@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_each_page_within_the_ceiling(demo, size, django_assert_max_num_queries):
    seed(size, big_events=50)
    clients = {name: _client(demo[name]) for name in PAGES}
    for name, urls in PAGES.items():
        for url in urls:
            with django_assert_max_num_queries(ceiling(name, url)):
                clients[name].get(url)
