"""Accountability figures (R41): who owed what, what was met on time, late or missed, per
section, per body and per person, through the service, the API and the admin page.

The deadlines come from the real lifecycle where it can make them (the duty officer's quick
report, a warning's verification deadlines met on time and late, the command group's
written feedback left open); a missed one is written directly, since the sweep that marks
deadlines missed is not part of this change.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from deadlines import accountability
from deadlines.models import Deadline, Kind
from incidents.models import Incident
from organization.models import Body, Section, User

from .api import local

URL = "/api/v1/accountability/"
ALL_UNITS = ["office", "info", "petition", "market", "housing", "command", "level1", "level2", "level3", "level4"]


def by(rows, key):
    return {r[key]: r for r in rows}


def expect(**figures):
    return figures


def figures(row):
    return {k: row[k] for k in ("owed", "met", "late", "missed", "open", "on_time_rate")}


def add(incident, owner, due, state, met_by=None, met_at=None, **extra):
    """A deadline row written directly (for states the lifecycle cannot reach yet)."""
    section = Section.objects.filter(code=owner).first()
    body = None if section else Body.objects.get(code=owner)
    return Deadline.objects.create(incident=incident, kind=extra.pop("kind", Kind.STATUS), owner_section=section,
                                   owner_body=body, due_at=due, state=state, met_by=met_by, met_at=met_at, **extra)


@pytest.fixture
def story(api, demo, time_machine):
    """Monday 2026-11-02, one incident through the API, plus a few rows written directly.

    info      quick (duty, on time)                                    → owed 1, met 1
    petition  verification met 10:00 (due 12:00); status missed 11:00;
              a cancelled status; verification met on 11-05            → owed 3, met 2, missed 1
    market    verification met 13:00 (due 12:00) → late                → owed 1, late 1
    command   written feedback, due 21:00, still open                 → owed 1, open 1
    housing   missed at 23:30 on 11-02; met 00:10 on 11-03 (local)     → owed 2, met 1, missed 1
    """
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = api.log(discovered_at=local(2026, 11, 2, 8, 40).isoformat())
    iid = inc["id"]
    api.act("command", iid, "assign", sections=["petition", "market", "housing"])
    api.act("command", iid, "judge", veracity="true", severity="medium", analysis="业主集中反映")
    api.act("command", iid, "warn", level=3, subject="某小区业主", scope="全市", matters="交房延期",
            measures="核实情况", delivery="phone")

    time_machine.move_to(local(2026, 11, 2, 10, 0), tick=False)
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    time_machine.move_to(local(2026, 11, 2, 13, 0), tick=False)
    api.act("market", iid, "report", kind="verification", section="market", body="已核实，迟报")

    incident = Incident.objects.get(pk=iid)
    # The warning gave housing a verification deadline too; nobody there reported (the demo
    # has no housing staff), so take it out of the picture and write housing's rows directly.
    Deadline.objects.filter(incident=incident, owner_section__code="housing").update(
        state="cancelled", cancel_reason="test")
    add(incident, "petition", local(2026, 11, 2, 11, 0), "missed")
    add(incident, "petition", local(2026, 11, 2, 11, 0), "cancelled")
    add(incident, "petition", local(2026, 11, 5, 12, 0), "met", kind=Kind.VERIFICATION,
        met_by=demo["petition"], met_at=local(2026, 11, 5, 11, 0))
    add(incident, "housing", local(2026, 11, 2, 23, 30), "missed")
    add(incident, "housing", local(2026, 11, 3, 0, 10), "met", met_at=local(2026, 11, 3, 0, 5))
    return incident


# --- the service -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_lifecycle_states_feed_the_figures(api, story):
    """The lifecycle, not the test, decided these states."""
    states = {(d.kind, d.owner_code): d.state for d in Deadline.objects.filter(
        incident=story, kind__in=[Kind.QUICK, Kind.VERIFICATION, Kind.FEEDBACK], due_at__date__lt=dt.date(2026, 11, 4))
        .exclude(owner_section__code="housing")}
    assert states == {("quick", "info"): "met", ("verification", "petition"): "met",
                      ("verification", "market"): "late", ("feedback", "command"): "open"}


@pytest.mark.django_db
def test_sections_and_bodies(api, story):
    rep = accountability.report(scope=accountability.Scope(everything=True)).as_dict()
    units = by(rep["sections"], "code")
    assert list(units) == ALL_UNITS  # sections in their order, then bodies
    assert units["petition"]["kind"] == "section" and units["command"]["kind"] == "body"
    assert units["petition"]["name"] == "信访科"
    assert figures(units["info"]) == expect(owed=1, met=1, late=0, missed=0, open=0, on_time_rate=1.0)
    assert figures(units["petition"]) == expect(owed=3, met=2, late=0, missed=1, open=0, on_time_rate=0.6667)
    assert figures(units["market"]) == expect(owed=1, met=0, late=1, missed=0, open=0, on_time_rate=0.0)
    assert figures(units["housing"]) == expect(owed=2, met=1, late=0, missed=1, open=0, on_time_rate=0.5)
    # Open is reported apart and never counted as missed; no outcome yet → no rate.
    assert figures(units["command"]) == expect(owed=1, met=0, late=0, missed=0, open=1, on_time_rate=None)
    assert units["command"]["overdue"] == 0  # 13:00, due 21:00
    assert figures(units["office"]) == expect(owed=0, met=0, late=0, missed=0, open=0, on_time_rate=None)


@pytest.mark.django_db
def test_open_past_due_is_overdue_not_missed(api, story, time_machine):
    time_machine.move_to(local(2026, 11, 2, 22, 0), tick=False)  # feedback due 21:00, hard 09:00 next day
    rep = accountability.report(scope=accountability.Scope(everything=True)).as_dict()
    command = by(rep["sections"], "code")["command"]
    assert (command["open"], command["overdue"], command["missed"], command["on_time_rate"]) == (1, 1, 0, None)


@pytest.mark.django_db
def test_people(api, story):
    rep = accountability.report(scope=accountability.Scope(everything=True)).as_dict()
    people = by(rep["people"], "username")
    # Everyone in a section or body; the auditor belongs to none and met nothing.
    assert set(people) == {"duty", "command", "command2", "leader", "infohead", "onsite", "petition", "market"}
    assert people["petition"]["full_name"] == "信访科 周丽"
    # met / late: what they did; owed / missed / open: what their units owed.
    assert figures(people["duty"]) == expect(owed=1, met=1, late=0, missed=0, open=0, on_time_rate=1.0)
    assert figures(people["petition"]) == expect(owed=3, met=2, late=0, missed=1, open=0, on_time_rate=0.6667)
    assert figures(people["market"]) == expect(owed=1, met=0, late=1, missed=0, open=0, on_time_rate=0.0)
    # command: section info (1, met by duty) + body command (1 open); met nothing themselves.
    assert figures(people["command"]) == expect(owed=2, met=0, late=0, missed=0, open=1, on_time_rate=None)
    assert figures(people["command2"]) == expect(owed=1, met=0, late=0, missed=0, open=1, on_time_rate=None)
    assert figures(people["infohead"]) == expect(owed=1, met=0, late=0, missed=0, open=0, on_time_rate=None)
    assert figures(people["leader"])["owed"] == 0


@pytest.mark.django_db
def test_someone_who_left_keeps_what_they_did(api, demo, story):
    """A person who met a deadline and is no longer a member still has their own row."""
    demo["market"].section_memberships.all().delete()
    people = by(accountability.report(scope=accountability.Scope(everything=True)).as_dict()["people"], "username")
    assert figures(people["market"]) == expect(owed=0, met=0, late=1, missed=0, open=0, on_time_rate=0.0)


# --- the API ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_api_all_rows_for_the_command_group_leadership_auditor_and_superuser(api, story):
    assert reverse("api-accountability") == URL
    for username in ("command", "leader", "auditor", "admin"):
        response = api.get(username, URL)
        assert response.status_code == 200, (username, response.content)
        body = response.json()
        assert [r["code"] for r in body["sections"]] == ALL_UNITS
        assert figures(by(body["sections"], "code")["petition"]) == expect(
            owed=3, met=2, late=0, missed=1, open=0, on_time_rate=0.6667)
        assert "petition" in by(body["people"], "username")


@pytest.mark.django_db
def test_api_date_filter_on_local_due_dates(api, story):
    day = api.get("command", URL, **{"from": "2026-11-02", "to": "2026-11-02"}).json()
    units = by(day["sections"], "code")
    assert figures(units["petition"]) == expect(owed=2, met=1, late=0, missed=1, open=0, on_time_rate=0.5)
    # 23:30 local on 11-02 is in; 00:10 local on 11-03 (16:10 UTC on 11-02) is out.
    assert figures(units["housing"]) == expect(owed=1, met=0, late=0, missed=1, open=0, on_time_rate=0.0)
    assert by(day["people"], "username")["petition"]["met"] == 1

    later = api.get("command", URL, **{"from": "2026-11-03"}).json()
    units = by(later["sections"], "code")
    assert figures(units["petition"]) == expect(owed=1, met=1, late=0, missed=0, open=0, on_time_rate=1.0)
    assert figures(units["housing"]) == expect(owed=1, met=1, late=0, missed=0, open=0, on_time_rate=1.0)
    assert units["market"]["owed"] == 0 and units["info"]["owed"] == 0

    before = api.get("command", URL, to="2026-11-01").json()
    assert all(r["owed"] == 0 for r in before["sections"] + before["people"])


@pytest.mark.django_db
def test_api_section_filter(api, story):
    body = api.get("command", URL, section="petition").json()
    assert [r["code"] for r in body["sections"]] == ["petition"]
    assert {r["username"] for r in body["people"]} == {"petition"}
    body = api.get("leader", URL, section="command").json()
    assert [r["code"] for r in body["sections"]] == ["command"]
    assert {r["username"] for r in body["people"]} == {"command", "command2"}
    assert figures(body["people"][0]) == expect(owed=1, met=0, late=0, missed=0, open=1, on_time_rate=None)


@pytest.mark.django_db
def test_api_a_section_sees_only_itself(api, story):
    body = api.get("petition", URL).json()
    assert [r["code"] for r in body["sections"]] == ["petition"]
    assert [r["username"] for r in body["people"]] == ["petition"]
    assert figures(body["people"][0]) == expect(owed=3, met=2, late=0, missed=1, open=0, on_time_rate=0.6667)

    response = api.get("petition", URL, section="market")
    assert response.status_code == 403 and response.json()["detail"]

    # A section head sees their section (and the body they sit on), and their own row.
    body = api.get("infohead", URL).json()
    assert [r["code"] for r in body["sections"]] == ["info", "level3"]
    assert [r["username"] for r in body["people"]] == ["infohead"]
    # The duty officer is a member of info: info only.
    assert [r["code"] for r in api.get("duty", URL).json()["sections"]] == ["info"]


@pytest.mark.django_db
def test_api_refuses_others(api, demo, story):
    outsider = User.objects.create_user("outsider", password="x", full_name="外单位人员")
    api.users["outsider"] = outsider
    response = api.get("outsider", URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "您无权查看问责统计。"}
    assert api.client("outsider").get(URL).status_code == 403


    assert APIClient().get(URL).status_code == 401


@pytest.mark.django_db
def test_api_invalid_input(api, story):
    response = api.get("command", URL, **{"from": "2026-13-01"})
    assert response.status_code == 400 and list(response.json()) == ["from"]
    response = api.get("command", URL, **{"from": "2026-11-03", "to": "2026-11-02"})
    assert response.status_code == 400 and response.json() == {"to": ["截止日期不能早于起始日期。"]}
    response = api.get("command", URL, section="nope")
    assert response.status_code == 400 and list(response.json()) == ["section"]


def _many(incident, n):
    petition, market, command = (Section.objects.get(code="petition"), Section.objects.get(code="market"),
                                 Body.objects.get(code="command"))
    users = list(User.objects.filter(username__in=["petition", "market", "command"]))
    states = ["met", "late", "missed", "open", "cancelled"]
    Deadline.objects.bulk_create(
        # Verification rows: a status duty has one open slot per section (deadlines.models).
        Deadline(incident=incident, kind=Kind.VERIFICATION, owner_section=(petition, market, None)[i % 3],
                 owner_body=command if i % 3 == 2 else None, due_at=local(2026, 11, 2, 9, 0) + dt.timedelta(hours=i),
                 state=states[i % 5], met_by=users[i % 3] if states[i % 5] in ("met", "late") else None)
        for i in range(n))


@pytest.mark.django_db
def test_bounded_number_of_queries(api, demo, django_assert_max_num_queries, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    incident = Incident.objects.get(pk=api.log()["id"])

    def client(username):
        # A fresh user object per request, as a real request has: no cached roles.
        api.users[username] = User.objects.get(username=username)
        return api.client(username)

    counts = []
    for n in (3, 27):  # 3 deadlines, then 27 more: 30
        _many(incident, n)
        for username, params in (("command", {}), ("command", {"from": "2026-11-01", "to": "2026-12-31",
                                                               "section": "petition"}), ("petition", {})):
            c = client(username)
            with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(8):
                assert c.get(URL, params).status_code == 200
            counts.append(len(ctx))
    assert counts[:3] == counts[3:], counts
    # 30 rows: 10 petition (1 + 9), 2 of them cancelled.
    assert by(client("command").get(URL).json()["sections"], "code")["petition"]["owed"] == 8


# --- the admin page --------------------------------------------------------------------------

@pytest.mark.django_db
def test_admin_page_for_a_superuser(admin_client, story):
    changelist = admin_client.get(reverse("admin:deadlines_deadline_changelist"))
    assert changelist.status_code == 200
    page_url = reverse("admin:deadlines_deadline_accountability")
    assert page_url == "/admin/deadlines/deadline/accountability/"
    assert f'href="{page_url}"' in changelist.content.decode()
    assert "添加" not in changelist.content.decode()  # read-only

    response = admin_client.get(page_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "问责统计" in html and "信访科" in html and "信访科 周丽" in html
    petition = by([r.as_dict() for r in response.context["report"].sections], "code")["petition"]
    assert figures(petition) == expect(owed=3, met=2, late=0, missed=1, open=0, on_time_rate=0.6667)
    row = html[html.index('id="unit-petition"'):]
    row = row[:row.index("</tr>")]
    assert [c.split(">")[-1] for c in row.split("</td>")[2:10]] == ["3", "2", "0", "1", "0", "0", "0", "67%"]

    filtered = admin_client.get(page_url, {"from": "2026-11-02", "to": "2026-11-02", "section": "petition"})
    assert [r.code for r in filtered.context["report"].sections] == ["petition"]
    assert filtered.context["report"].sections[0].on_time_rate == 0.5

    bad = admin_client.get(page_url, {"from": "2026-11-03", "to": "2026-11-02"})
    assert bad.status_code == 200 and bad.context["report"] is None and "截止日期不能早于起始日期。" in bad.content.decode()


@pytest.mark.django_db
def test_admin_page_refuses_staff_without_access(client, demo, story):
    outsider = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(outsider)
    assert client.get(reverse("admin:deadlines_deadline_accountability")).status_code == 403


@pytest.mark.django_db
def test_the_page_defaults_to_this_month_with_clear_column_names(demo, client, time_machine):
    time_machine.move_to(local(2026, 11, 18, 10, 0), tick=False)
    client.force_login(demo["command"])
    page = client.get("/accountability/")
    text = page.content.decode()
    assert 'value="2026-11-01"' in text and 'value="2026-11-18"' in text
    assert "逾期未完成" in text and "待办中已超时" in text and "其中已过期" not in text
