"""Bounded SQL: a page of incidents, an incident's detail and the deadline list cost the same
number of queries whether there are 3 incidents or 30, 5 timeline events or 50 — for the
command group (sees everything) and for a section (sees through its grants).

Each incident is built the way the demo unit handles a real case — logged with sources,
assigned, judged major, warned, a level III response proposed and approved, spread recorded —
through the payload serializers and services the API runs (``tests.api.Direct``). The measured
requests authenticate with real tokens, so each one loads its user afresh, as in
production.
"""

from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents.models import Incident, TimelineEvent
from responses.models import Report

from .api import Direct

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/incidents/"

# Explicit ceilings. Measured when written: list 11 (command) / 12 (section), detail 10 / 11,
# deadlines 4 / 5 — token, roles, count, page and one query per prefetched relation. Issue 11
# added four relations (reports, statements, judgments, 批示意见). Issue 12: the representation's
# lists are read in three queries whatever their number (lifecycle.selectors.incident_parts):
# list 7 — token, roles, count, page, deadlines, timeline, the other lists — and detail 6.
MAX_LIST_QUERIES = 7
MAX_DETAIL_QUERIES = 6
MAX_DEADLINE_QUERIES = 6


class Desk:
    def __init__(self, users):
        self.users = users

    def as_(self, username) -> APIClient:
        client = APIClient()
        client.force_authenticate(self.users[username])
        return client

    def act(self, by, pk, action, **payload):
        response = self.as_(by).post(f"{URL}{pk}/{action}/", payload, format="json")
        assert response.status_code == 200, (by, action, response.content)
        return response.json()

    def handled_case(self, n) -> int:
        """A case as the unit handles it: every relation the representation shows, filled
        (built through the services the API runs: 30 cases by HTTP would cost seconds)."""
        direct = Direct(self.users)
        pk = direct.log(title=f"第{n}号舆情：某小区业主反映物业问题", summary="业主在论坛和微博发帖。",
                        sources=[{"url": f"https://bbs.example.com/t/{n}", "platform": "forum"},
                                 {"url": f"https://weibo.example.com/s/{n}", "platform": "weibo",
                                  "mainstream_first": True}])
        direct.act("command", pk, "assign", sections=["petition"])
        direct.act("command", pk, "judge", veracity="true", severity="major", analysis="业主集中维权")
        direct.act("command", pk, "warn", level=3, subject="涉事小区业主", scope="本区", matters="聚集风险",
                   measures="核实回应", delivery="system")
        direct.act("command", pk, "propose-response", level=3, reason="舆情升温")
        direct.act("infohead", pk, "approve-response")
        direct.act("command", pk, "record-spread", platform="weibo", posts=30, views=12000)
        return pk


@pytest.fixture
def desk(demo):
    return Desk(demo)


@pytest.fixture
def token_clients(demo):
    """command and petition as API clients holding real tokens."""
    clients = {}
    for username in ("command", "petition"):
        issued = APIClient().post("/api/v1/auth/token/", {"username": username, "password": "demo-pass-2026"},
                                  format="json")
        assert issued.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
        clients[username] = client
    return clients


def measured(assert_max, ceiling, client, url, **params):
    with assert_max(ceiling) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.mark.parametrize("username", ["command", "petition"])
def test_the_incident_and_deadline_lists_cost_the_same_queries_for_3_incidents_as_for_30(
        desk, token_clients, username, django_assert_max_num_queries):
    client = token_clients[username]
    for n in range(3):
        desk.handled_case(n)
    few, page = measured(django_assert_max_num_queries, MAX_LIST_QUERIES, client, URL)
    assert page["count"] == 3
    assert all(row["warning"] and row["response"]["state"] == "active" and len(row["sources"]) == 2
               and row["deadlines"] and row["timeline"] for row in page["results"])
    few_deadlines, page = measured(django_assert_max_num_queries, MAX_DEADLINE_QUERIES, client, "/api/v1/deadlines/")
    assert page["count"] >= 3 * 2

    for n in range(3, 30):
        desk.handled_case(n)
    assert len(client.get(URL).json()["results"]) == 20  # 20 a page unless asked (api/pagination.py)
    many, page = measured(django_assert_max_num_queries, MAX_LIST_QUERIES, client, URL, page_size=30)
    assert page["count"] == 30 and len(page["results"]) == 30
    assert many == few, f"{username}: {few} queries for 3 incidents, {many} for 30"
    many_deadlines, page = measured(django_assert_max_num_queries, MAX_DEADLINE_QUERIES, client,
                                    "/api/v1/deadlines/", page_size=200)
    assert page["count"] >= 30 * 2 and len(page["results"]) == min(page["count"], 200)
    assert many_deadlines == few_deadlines
    overdue = measured(django_assert_max_num_queries, MAX_DEADLINE_QUERIES, client, "/api/v1/deadlines/",
                       owner="petition", kind="status", overdue=1)[0]
    assert overdue <= MAX_DEADLINE_QUERIES


@pytest.mark.parametrize("username", ["command", "petition"])
def test_filtered_and_searched_lists_stay_bounded_too(desk, token_clients, username, django_assert_max_num_queries):
    client = token_clients[username]
    for n in range(3):
        desk.handled_case(n)
    few = [measured(django_assert_max_num_queries, MAX_LIST_QUERIES, client, URL, **params)[0]
           for params in ({"q": "物业"}, {"state": "responding", "response_level": 3}, {"section": "petition"})]
    for n in range(3, 12):
        desk.handled_case(n)
    many = []
    for params in ({"q": "物业"}, {"state": "responding", "response_level": 3}, {"section": "petition"}):
        count, page = measured(django_assert_max_num_queries, MAX_LIST_QUERIES, client, URL, **params)
        assert page["count"] == 12
        many.append(count)
    assert many == few


@pytest.mark.parametrize("username", ["command", "petition"])
def test_an_incident_detail_costs_the_same_queries_with_5_timeline_events_as_with_50(
        desk, token_clients, username, django_assert_max_num_queries):
    client = token_clients[username]
    pk = desk.handled_case(0)
    assert TimelineEvent.objects.filter(incident_id=pk).count() >= 5
    few, body = measured(django_assert_max_num_queries, MAX_DETAIL_QUERIES, client, f"{URL}{pk}/")
    short = len(body["timeline"])

    while TimelineEvent.objects.filter(incident_id=pk).count() < 50:
        desk.act("command", pk, "record-spread", platform="forum", posts=5)
        desk.act("petition", pk, "add-source", url=f"https://bbs.example.com/t/0?page={short}", platform="forum")
        short += 1
    many, body = measured(django_assert_max_num_queries, MAX_DETAIL_QUERIES, client, f"{URL}{pk}/")
    assert len(body["timeline"]) >= 50 and len(body["sources"]) > 2
    assert many == few, f"{username}: {few} queries with a short timeline, {many} with 50 events"
    # the paged sub-resources keep the API's 50 a page (only the incident list pages 20)
    page = client.get(f"{URL}{pk}/timeline/").json()
    assert page["count"] == body["timeline_count"] >= 50 and len(page["results"]) == 50


# Measured when written: 28 through the API (user, roles, the incident read once, the service
# under its lock, the incident's representation), 47 from the page (the same action, then the
# case page's panels and the navigation's badges); 29 and 44 after the bounded-pages and
# hardening merges; 31 from the page once the case page was bounded (issue 15: the panels'
# lists read only where shown). The page once ran 58: it loaded the incident twice and checked the role
# twice before acting. Issue 11: +4 for the representation's four new relations.
MAX_API_REPORT_QUERIES = 34
MAX_PAGE_REPORT_QUERIES = 50


def test_a_status_report_runs_one_action_path_from_the_api_and_from_the_page(
        desk, demo, django_assert_max_num_queries):
    pk = desk.handled_case(0)
    with django_assert_max_num_queries(MAX_API_REPORT_QUERIES):
        response = desk.as_("petition").post(f"{URL}{pk}/report/", {"kind": "status", "section": "petition",
                                                                    "body": "舆情平稳"}, format="json")
    assert response.status_code == 200, response.content
    page = Client()
    page.force_login(demo["petition"])
    with django_assert_max_num_queries(MAX_PAGE_REPORT_QUERIES):
        response = page.post(f"/incidents/{pk}/act/report/", {"kind": "status", "section": "petition",
                                                              "body": "仍在发酵", "_form": "status_report"},
                             HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert list(Report.objects.filter(incident_id=pk, kind="status").values_list("body", flat=True)
                .order_by("id")) == ["舆情平稳", "仍在发酵"]


@pytest.mark.django_db
def test_the_written_out_representations_equal_drf_field_by_field(demo):
    """DeadlineSerializer and TimelineEventSerializer write their dicts directly (an incident list
    embeds hundreds of rows); the result is what DRF's walk over the declared fields gives."""
    import datetime as dt

    from rest_framework import serializers

    from api import serializers as s
    from benchmarks.pages_seed import seed
    from deadlines.models import Deadline

    seed(30, big_events=20, seed=5)
    deadlines = list(Deadline.objects.select_related("owner_section", "owner_body", "met_by")[:200])
    assert any(d.met_by_id for d in deadlines) and any(d.met_at is None for d in deadlines)
    fast, drf = s.DeadlineSerializer(), serializers.ModelSerializer.to_representation
    assert [fast.to_representation(d) for d in deadlines] == [dict(drf(fast, d)) for d in deadlines]
    events = list(TimelineEvent.objects.select_related("actor")[:300])
    fast, drf = s.TimelineEventSerializer(), serializers.Serializer.to_representation
    assert [fast.to_representation(e) for e in events] == [dict(drf(fast, e)) for e in events]
    field = serializers.DateTimeField()
    for value in (dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 12, 0, 7, 120, SHANGHAI)):
        assert s.when(value) == field.to_representation(value)


@pytest.mark.django_db
def test_the_embedded_deadlines_are_the_owed_ones_and_the_latest_others(demo, monkeypatch):
    """API.md v1.1 "Paged sub-resources": every deadline still owed, plus the latest EMBEDDED
    others (here 2), in one query; the embedded timeline is the latest EMBEDDED events."""
    from benchmarks.pages_seed import seed
    from deadlines.models import Deadline
    from lifecycle import selectors

    seed(30, big_events=20, seed=6)
    monkeypatch.setattr(selectors, "EMBEDDED", 2)
    checked = 0
    incidents = list(selectors.incident_queryset(demo["command"]))
    parts = selectors.incident_parts(incidents)
    for incident in incidents:
        rows = list(Deadline.objects.filter(incident=incident).order_by("-due_at", "-id"))
        owed = [d for d in rows if d.state in selectors.OWED]
        others = [d for d in rows if d.state not in selectors.OWED][:2]
        expected = sorted(owed + others, key=lambda d: (d.due_at, d.pk))
        assert [d["id"] for d in parts[incident.pk]["deadlines"]] == [d.pk for d in expected]
        assert parts[incident.pk]["deadline_count"] == len(rows)
        events = list(TimelineEvent.objects.filter(incident=incident).order_by("-at", "-id")[:2])[::-1]
        assert [e[1] for e in parts[incident.pk]["timeline"]] == [e.pk for e in events]
        checked += len(rows) > len(expected)
    assert checked  # some incidents had more than the cap


@pytest.mark.django_db
def test_the_embedded_rows_give_the_same_json_as_the_objects(demo):
    """The representation reads its embedded deadlines and events as plain rows with their
    users' and units' names (``incident_parts``); the JSON is the one the objects give
    (the deadline list and the timeline page serialize the objects)."""
    from api import serializers as s
    from benchmarks.pages_seed import seed
    from deadlines.models import Deadline
    from lifecycle import selectors

    seed(30, big_events=20, seed=7)
    incidents = list(selectors.incident_queryset(demo["command"]))
    parts = selectors.incident_parts(incidents)
    deadline, event = s.DeadlineSerializer(), s.TimelineEventSerializer()
    for incident in incidents:
        rows = parts[incident.pk]
        objects = Deadline.objects.select_related("owner_section", "owner_body", "met_by").in_bulk(
            [d["id"] for d in rows["deadlines"]])
        assert ([s.deadline_data(d) for d in rows["deadlines"]]
                == [deadline.to_representation(objects[d["id"]]) for d in rows["deadlines"]])
        events = TimelineEvent.objects.select_related("actor").in_bulk([e[1] for e in rows["timeline"]])
        assert ([s.event_data(at, actor if actor_id else None, verb, detail, before, after, reason)
                 for _i, pk, at, actor_id, actor, verb, detail, before, after, reason in rows["timeline"]]
                == [event.to_representation(events[e[1]]) for e in rows["timeline"]])


@pytest.mark.django_db
def test_the_compiled_parts_queries_give_what_the_orm_gives(demo, monkeypatch):
    """The representation's three queries run from SQL compiled once per number of ids, the
    real ids put in the placeholders' places (``sentiment_ops.prepared.by_ids``): the same rows
    as the querysets, for pages of every size and the same size with other ids, and
    compiled afresh when the cap changes."""
    from benchmarks.pages_seed import seed
    from lifecycle import selectors
    from sentiment_ops import prepared

    seed(30, big_events=120, seed=8)
    ids = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    pages = [ids[:1], ids[1:2], ids[:7], ids[7:14], ids[14:21][::-1], ids]
    for build in (selectors._embedded_rows, selectors._latest_events, selectors._parts_union):
        for page in pages:
            assert sorted(map(tuple, prepared.by_ids(selectors.EMBEDDED, build, page)), key=repr) == sorted(
                map(tuple, build(page)), key=repr), (build.__name__, page)
    monkeypatch.setattr(selectors, "EMBEDDED", 3)
    events = prepared.by_ids(selectors.EMBEDDED, selectors._latest_events, ids[:1])
    assert len(events) == 3 and events == list(selectors._latest_events(ids[:1]))
