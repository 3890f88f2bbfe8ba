"""Issue 14, "bounded work per request": the search is capped (a clear 400 in the API and on
the page), invalid page numbers answer 400 on the contract, and on PostgreSQL every request runs
in one transaction with a statement timeout and JIT off, a cut-off statement answering 503 —
while code outside requests (tasks, commands, migrations) keeps the server's defaults."""

import pytest
from django.db import connection
from django.http import JsonResponse
from django.test import Client
from django.urls import include, path

from incidents.selectors import SEARCH_MAX_TERM_LENGTH, SEARCH_MAX_TERMS

from .api import Api

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL settings")


@pytest.fixture
def api(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Api(demo)


def test_search_within_bounds_works_and_beyond_is_400_in_the_callers_language(api, django_assert_max_num_queries):
    incident = api.log(title="某小区业主维权帖文 交房延期")
    words = " ".join(["业主"] * SEARCH_MAX_TERMS)
    found = api.get("command", "/api/v1/incidents/", q=words)
    assert found.status_code == 200 and [r["id"] for r in found.json()["results"]] == [incident["id"]]

    too_many = " ".join(f"w{i}" for i in range(2000))
    with django_assert_max_num_queries(4):  # refused before the incident query is built
        refused = api.get("command", "/api/v1/incidents/", q=too_many)
    assert refused.status_code == 400
    assert list(refused.json()) == ["q"] and "搜索词最多" in refused.json()["q"][0]

    long_term = api.client("petition", "en").get("/api/v1/incidents/", {"q": "x" * (SEARCH_MAX_TERM_LENGTH + 1)})
    assert long_term.status_code == 400 and "search terms" in long_term.json()["q"][0]


def test_the_list_page_refuses_an_unbounded_search_with_the_message(api, demo):
    web = Client()
    web.force_login(demo["command"])
    page = web.get("/incidents/", {"q": " ".join(["词"] * (SEARCH_MAX_TERMS + 1))})
    assert page.status_code == 400
    assert "搜索词最多" in page.content.decode()
    htmx = web.get("/incidents/", {"q": "y" * 500}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and 'id="search-error"' in htmx.content.decode()


def test_an_invalid_page_number_is_400_on_the_contract(api):
    api.log()
    for page in ("999", "0", "abc"):
        response = api.get("duty", "/api/v1/incidents/", page=page)
        assert response.status_code == 400, page
        assert response.json() == {"page": ["页码无效。"]}
    english = api.client("duty", "en").get("/api/v1/deadlines/", {"page": "77"})
    assert english.json() == {"page": ["Invalid page number."]}
    assert api.get("duty", "/api/v1/incidents/", page_size=100000).json()["count"] == 1  # capped at 200


# --- the statement timeout ---------------------------------------------------------------

def _settings_now(request):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    return JsonResponse({"statement_timeout": timeout, "jit": jit, "atomic": connection.in_atomic_block})


def _sleep(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2)")
    return JsonResponse({"slept": True})


urlpatterns = [
    path("probe/", _settings_now),
    path("api/v1/sleep/", _sleep),
    path("sleep/", _sleep),
    path("", include("sentiment_ops.urls")),
]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_every_request_runs_with_a_local_statement_timeout_and_no_jit(settings):
    settings.ROOT_URLCONF = __name__
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        outside_before = cursor.fetchone()[0]
    assert Client().get("/probe/").json() == {"statement_timeout": "5s", "jit": "off", "atomic": True}
    settings.STATEMENT_TIMEOUT_MS = 1500
    assert Client().get("/probe/").json()["statement_timeout"] == "1500ms"
    with connection.cursor() as cursor:  # LOCAL: nothing leaks to the connection's next user
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == outside_before


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_timeout_is_cut_off_and_answers_503(settings):
    settings.ROOT_URLCONF = __name__
    settings.STATEMENT_TIMEOUT_MS = 100
    api = Client().get("/api/v1/sleep/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api.status_code == 503 and "超时" in api.json()["detail"]
    page = Client().get("/sleep/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 503 and "timed out" in page.content.decode()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_tasks_and_commands_outside_requests_are_not_cut_off(settings):
    settings.STATEMENT_TIMEOUT_MS = 100
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.3)")  # what a task, a migration or seeding runs
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] != "100ms"
