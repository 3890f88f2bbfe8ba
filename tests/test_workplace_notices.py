"""The notification centre and the accountability page of the browser workplace (issue 5,
item 5) through Django's test client: the unread badge on every page costs one COUNT, a user
sees and marks only their own notices, following a notice marks it read, and the
accountability page shows the API's figures to exactly the users the API shows them to."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deadlines.accountability import scope_for
from deadlines.models import Deadline, Kind, Notification, Step
from incidents.models import Incident
from organization.models import Section, User
from sentiment_ops import prepared

from .api import Api, local

HTMX = {"HTTP_HX_REQUEST": "true"}
ACCOUNTABILITY_API = "/api/v1/accountability/"


def html(response) -> str:
    return response.content.decode()


def nav(text) -> str:
    return re.search(r'<ul class="navbar-nav[^"]*" id="nav-pages"[^>]*>(.*?)</ul>', text, re.S).group(1)


def badge(text):
    """The unread count in the navigation, or None when there is no badge."""
    found = re.search(r'id="unread-badge">(\d+)<', nav(text))
    return int(found.group(1)) if found else None


def notice(user, title, *, step="", incident=None, read=False, body="", link=None, at=None):
    n = Notification.objects.create(
        recipient=user, incident=incident, step=step, title=title, body=body,
        link=link if link is not None else (f"/incidents/{incident.pk}/" if incident else ""),
        read_at=timezone.now() if read else None)
    if at is not None:  # created_at is auto_now_add
        Notification.objects.filter(pk=n.pk).update(created_at=at)
        n.refresh_from_db()
    return n


@pytest.fixture
def incident(api):

    return Incident.objects.get(pk=api.log()["id"])


# --- the unread badge ----------------------------------------------------------------------

@pytest.mark.django_db
def test_the_unread_badge_is_on_every_page_for_one_count(demo, web, incident):
    petition = demo["petition"]
    notice(petition, "提醒一", step=Step.REMIND, incident=incident)
    notice(petition, "催办二", step=Step.URGE, incident=incident)
    notice(petition, "已读的", incident=incident, read=True)
    notice(demo["market"], "别人的", incident=incident)
    for url in ("/", "/incidents/", "/todo/", "/notifications/", "/accountability/"):
        with CaptureQueriesContext(connection) as queries:
            page = web("petition").get(url)
        assert page.status_code == 200, url
        assert badge(html(page)) == 2, url
        sent = [prepared.sent_text(q["sql"]) for q in queries.captured_queries]
        counts = [sql for sql in sent if 'FROM "deadlines_notification"' in sql
                  and "COUNT(" in sql.upper() and '"read_at" IS NULL' in sql]
        assert len(counts) == 1, (url, counts)  # the page's own unread figure shares it
    # Nothing unread: no badge, the entry stays.
    text = html(web("market").get("/"))
    assert badge(text) == 1
    Notification.objects.filter(recipient=demo["market"]).update(read_at=timezone.now())
    text = html(web("market").get("/"))
    assert badge(text) is None and 'href="/notifications/"' in nav(text)


@pytest.mark.django_db
def test_real_notices_reach_the_sections_members(api, demo, web):
    """A warning sent to a section notifies its members (deadlines.notices.tell): a 通知 without a step."""
    inc = api.log()
    api.act("command", inc["id"], "assign", sections=["petition"])
    api.act("command", inc["id"], "judge", veracity="true", severity="major", analysis="业主集中维权")
    api.act("command", inc["id"], "warn", level=2, subject="某小区业主", scope="全市", matters="交房延期",
            measures="核实情况", delivery="fax")
    page = web("petition").get("/notifications/")
    assert badge(html(page)) == 1
    [item] = page.context["page"].object_list
    assert item.title.startswith("【预警通知】") and item.step == "" and item.incident_id == inc["id"]
    assert re.search(r'<span class="badge step-badge step-notice">通知</span>', html(page))


# --- the list ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_list_shows_only_my_notices_newest_first_with_their_steps(demo, web, incident):
    petition, now = demo["petition"], timezone.now()
    steps = [(Step.REMIND, "提醒"), (Step.URGE, "催办"), (Step.SUPERVISE, "督办"), (Step.NOTIFY, "通报"), ("", "通知")]
    mine = [notice(petition, f"第{i}条", step=step, incident=incident, body=f"内容{i}", read=(i == 0),
                   at=now - dt.timedelta(minutes=10 - i)) for i, (step, _label) in enumerate(steps)]
    theirs = notice(demo["market"], "房地产市场科的通知", incident=incident)
    page = web("petition").get("/notifications/")
    assert page.status_code == 200
    text = html(page)
    assert [n.pk for n in page.context["page"].object_list] == [n.pk for n in reversed(mine)]
    assert "房地产市场科的通知" not in text and f'id="notification-{theirs.pk}"' not in text
    for n, (step, label) in zip(mine, steps, strict=True):
        item = re.search(rf'<li class="list-group-item notification([^"]*)" id="notification-{n.pk}" '
                         rf'data-step="{step or "notice"}".*?</li>', text, re.S)
        assert item, n.title
        assert f">{label}</span>" in item.group(0) and n.title in item.group(0) and n.body in item.group(0)
        assert n.created_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M") in item.group(0)
        assert f'href="/notifications/{n.pk}/open/"' in item.group(0)
        assert f"查看事件 #{incident.pk}" in item.group(0)
        # Unread stands out and can be marked read; read ones cannot.
        assert ("notification-unread" in item.group(1)) == (n.read_at is None)
        assert (f'action="/notifications/{n.pk}/read/"' in item.group(0)) == (n.read_at is None)
    assert "全部标为已读" in text and 'id="unread-count">4<' in text

    unread = web("petition").get("/notifications/?unread=1")
    assert [n.pk for n in unread.context["page"].object_list] == [n.pk for n in reversed(mine[1:])]
    assert unread.context["unread_only"] is True
    # Someone with no notice (issue 10: the command group now hears of every logged incident).
    empty = web("onsite").get("/notifications/?unread=1")
    assert "没有未读通知。" in html(empty)
    assert "还没有通知。" in html(web("onsite").get("/notifications/"))


@pytest.mark.django_db
def test_the_list_is_paginated_and_answers_htmx_with_the_list_only(demo, web):
    petition = demo["petition"]
    Notification.objects.bulk_create([Notification(recipient=petition, title=f"通知{i:02d}") for i in range(25)])
    first = web("petition").get("/notifications/")
    assert len(first.context["page"].object_list) == 20 and "第 1 / 2 页" in html(first)
    second = web("petition").get("/notifications/?page=2", **HTMX)
    assert html(second).startswith('<div id="notifications">') and "<html" not in html(second)
    assert len(second.context["page"].object_list) == 5 and "第 2 / 2 页" in html(second)
    # A notice with nothing to open has no link.
    assert "/open/" not in html(second)


# --- marking read ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_mark_one_read_updates_the_list_and_the_badge(demo, web, incident):
    petition = demo["petition"]
    a = notice(petition, "甲", step=Step.REMIND, incident=incident)
    b = notice(petition, "乙", step=Step.URGE, incident=incident)
    response = web("petition").post(f"/notifications/{a.pk}/read/", {"unread": "1", "page": "1"},
                                    HTTP_HX_CURRENT_URL="http://testserver/notifications/?unread=1", **HTMX)
    assert response.status_code == 200
    text = html(response)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.read_at is not None and b.read_at is None
    # The unread list without it, the message and the navigation (with its badge) out of band.
    assert text.startswith('<div id="notifications">')
    assert f'id="notification-{a.pk}"' not in text and f'id="notification-{b.pk}"' in text
    assert 'id="messages" class="app-messages" aria-live="polite" hx-swap-oob="true"' in text and "已标为已读。" in text
    assert 'id="nav-pages" hx-swap-oob="true"' in text and badge(text) == 1

    # Without htmx: back to the list the user was on.
    response = web("petition").post(f"/notifications/{b.pk}/read/", {"unread": "1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?unread=1"
    b.refresh_from_db()
    assert b.read_at is not None
    assert badge(html(web("petition").get("/"))) is None


@pytest.mark.django_db
def test_mark_all_read_through_the_writer(demo, web, incident):
    petition = demo["petition"]
    for i in range(3):
        notice(petition, f"未读{i}", incident=incident)
    earlier = notice(petition, "早已读", incident=incident, read=True)
    read_at = Notification.objects.get(pk=earlier.pk).read_at
    theirs = notice(demo["market"], "别人的", incident=incident)
    response = web("petition").post("/notifications/read-all/", **HTMX)
    assert response.status_code == 200
    text = html(response)
    assert "已将 3 条通知标为已读。" in text and badge(text) is None and 'id="unread-count">0<' in text
    assert not Notification.objects.filter(recipient=petition, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=earlier.pk).read_at == read_at  # the writer leaves read ones alone
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    # Again: nothing left, said so; without htmx a redirect.
    response = web("petition").post("/notifications/read-all/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert "没有未读通知。" in html(web("petition").get("/notifications/"))


@pytest.mark.django_db
def test_another_users_notification_is_a_404(demo, web, incident):
    theirs = notice(demo["market"], "房地产市场科的通知", incident=incident)
    for response in (web("petition").post(f"/notifications/{theirs.pk}/read/", **HTMX),
                     web("petition").get(f"/notifications/{theirs.pk}/open/"),
                     web("petition").get("/notifications/999999/open/")):
        assert response.status_code == 404
        assert "页面不存在，或您没有查看权限。" in html(response)
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert web("petition").get(f"/notifications/{theirs.pk}/read/").status_code == 405


# --- opening a notice -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_opening_a_notice_marks_it_read_and_goes_to_its_link(demo, web, incident):
    petition = demo["petition"]
    n = notice(petition, "提醒", step=Step.REMIND, incident=incident)
    response = web("petition").get(f"/notifications/{n.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    assert Notification.objects.get(pk=n.pk).read_at is not None
    # Already read: still goes there, stays read.
    assert web("petition").get(f"/notifications/{n.pk}/open/")["Location"] == f"/incidents/{incident.pk}/"

    # A link off this site is never followed: the incident instead; nothing at all: the list.
    away = notice(petition, "外链", incident=incident, link="https://evil.example/phish")
    assert web("petition").get(f"/notifications/{away.pk}/open/")["Location"] == f"/incidents/{incident.pk}/"
    schemeless = notice(petition, "外链", incident=incident, link="//evil.example/")
    assert web("petition").get(f"/notifications/{schemeless.pk}/open/")["Location"] == f"/incidents/{incident.pk}/"
    bare = notice(petition, "系统通知", link="")
    assert web("petition").get(f"/notifications/{bare.pk}/open/")["Location"] == "/notifications/"
    assert not Notification.objects.filter(recipient=petition, read_at__isnull=True).exists()


# --- 问责统计 --------------------------------------------------------------------------------------

@pytest.fixture
def story(api, demo, time_machine):
    """Monday 2026-11-02: the duty officer's quick report on time (info); a warning's
    verification met on time by petition and late by market; a missed status report of
    petition written directly (the sweep is not part of this)."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = api.log(discovered_at=local(2026, 11, 2, 8, 40).isoformat())
    iid = inc["id"]
    api.act("command", iid, "assign", sections=["petition", "market"])
    api.act("command", iid, "judge", veracity="true", severity="medium", analysis="业主集中反映")
    api.act("command", iid, "warn", level=3, subject="某小区业主", scope="全市", matters="交房延期",
            measures="核实情况", delivery="phone")
    time_machine.move_to(local(2026, 11, 2, 10, 0), tick=False)
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    time_machine.move_to(local(2026, 11, 2, 13, 0), tick=False)
    api.act("market", iid, "report", kind="verification", section="market", body="已核实，迟报")
    Deadline.objects.create(incident_id=iid, kind=Kind.STATUS, owner_section=Section.objects.get(code="petition"),
                            due_at=local(2026, 11, 2, 11, 0), state="missed")
    return iid


FIGURES = ("owed", "met", "late", "missed", "open", "overdue", "on_time_rate")


def page_units(page):
    return {u["row"].code: {**u["row"].as_dict(), "rate": u["rate"]} for u in page.context["units"]}


def page_people(page):
    return {p["row"].username: {**p["row"].as_dict(), "rate": p["rate"]} for p in page.context["people"]}


def row_html(text, row_id):
    return re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', text, re.S).group(1)


@pytest.mark.django_db
def test_accountability_shows_the_apis_figures_to_the_command_group(api, web, story):
    page = web("command").get("/accountability/")
    assert page.status_code == 200
    text = html(page)
    expected = api.get("command", ACCOUNTABILITY_API).json()
    units, people = page_units(page), page_people(page)
    assert list(units) == [r["code"] for r in expected["sections"]]  # every section, then every body
    assert {u: {k: units[u][k] for k in FIGURES} for u in units} == {
        r["code"]: {k: r[k] for k in FIGURES} for r in expected["sections"]}
    assert {p: {k: people[p][k] for k in FIGURES} for p in people} == {
        r["username"]: {k: r[k] for k in FIGURES} for r in expected["people"]}
    assert {k: units["petition"][k] for k in ("owed", "met", "late", "missed", "open")} == {
        "owed": 2, "met": 1, "late": 0, "missed": 1, "open": 0}
    # As a percentage in the table; a unit with nothing finished has a dash.
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row_html(text, "unit-petition")) == ["2", "1", "0", "1", "0", "0", "0", "50%"]
    assert '<td class="num rate">0%</td>' in row_html(text, "unit-market")
    assert '<td class="num rate">100%</td>' in row_html(text, "unit-info")
    assert '<td class="num rate">—</td>' in row_html(text, "unit-office")
    assert "信访科 周丽" in row_html(text, "person-petition")
    # The chart: on-time rate by section/body, ECharts served locally.
    assert "vendor/echarts/echarts.min.js" in text and 'data-rate-chart="ontime-chart-data"' in text
    chart = page.context["chart"]
    assert chart["names"][:5] == ["局办公室", "信息中心", "信访科", "房地产市场科", "住房保障科"]
    assert chart["rates"][:5] == [None, 100.0, 50.0, 0.0, None]
    assert 'id="nav-accountability"' in nav(text) and "问责统计" in nav(text)
    for username in ("leader", "auditor", "admin"):
        assert page_units(web(username).get("/accountability/")).keys() == units.keys()


@pytest.mark.django_db
def test_accountability_filters_by_period_and_unit_like_the_api(api, web, story):
    query = {"from": "2026-11-03", "to": "2026-11-30"}
    page = web("command").get("/accountability/", query)
    assert all(u["owed"] == 0 for u in page_units(page).values())
    assert page.context["fs"].value("from") == "2026-11-03"  # the form keeps what was asked
    page = web("command").get("/accountability/", {"from": "2026-11-02", "to": "2026-11-02", "section": "petition"},
                              **HTMX)
    text = html(page)
    assert text.startswith('<div id="accountability">') and "<html" not in text
    expected = api.get("command", ACCOUNTABILITY_API, **{"from": "2026-11-02", "to": "2026-11-02",
                                                         "section": "petition"}).json()
    assert list(page_units(page)) == ["petition"] and list(page_people(page)) == ["petition"]
    assert page_units(page)["petition"]["on_time_rate"] == expected["sections"][0]["on_time_rate"] == 0.5
    assert '<option value="petition" selected>' in text

    # Errors in Chinese beside the inputs, no figures.
    page = web("command").get("/accountability/", {"from": "2026-11-05", "to": "2026-11-01", "section": "nowhere"})
    text = html(page)
    assert page.status_code == 200 and page.context["report"] is None
    assert "截止日期不能早于起始日期。" in text and "没有代码为“nowhere”的股室或机构。" in text
    assert 'id="accountability-units"' not in text


@pytest.mark.django_db
def test_a_section_member_sees_their_section_and_themselves(api, web, story):
    page = web("petition").get("/accountability/")
    assert page.status_code == 200
    text = html(page)
    expected = api.get("petition", ACCOUNTABILITY_API).json()
    assert list(page_units(page)) == [r["code"] for r in expected["sections"]] == ["petition"]
    assert list(page_people(page)) == [r["username"] for r in expected["people"]] == ["petition"]
    assert "房地产市场科" not in text.split('id="accountability-units"')[1]
    assert 'id="accountability-scope"' in text and 'id="nav-accountability"' in nav(text)
    # Only their own units to pick; another one by URL is refused with the API's words.
    assert [code for code, _name in page.context["unit_choices"]] == ["petition"]
    refused = web("petition").get("/accountability/", {"section": "market"})
    assert refused.status_code == 200 and refused.context["report"] is None
    assert "您只能查看本人所在股室或机构的问责统计。" in html(refused)
    assert api.get("petition", ACCOUNTABILITY_API, section="market").status_code == 403
    # A leadership body member (no section) sees the body.
    assert list(page_units(web("onsite").get("/accountability/"))) == ["level4"]


@pytest.mark.django_db
def test_accountability_is_a_404_for_someone_without_access(api, web, story):
    outsider = User.objects.create_user(username="outsider", password="x-pass-2026", full_name="外单位 某人")
    assert api.get("command", ACCOUNTABILITY_API).status_code == 200
    assert Api({"outsider": outsider}).get("outsider", ACCOUNTABILITY_API).status_code == 403
    page = web(outsider).get("/accountability/")
    assert page.status_code == 404 and "页面不存在，或您没有查看权限。" in html(page)
    assert "问责统计" not in nav(html(web(outsider).get("/")))
    # Everyone has a notification centre.
    assert web(outsider).get("/notifications/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["duty", "command", "leader", "infohead", "onsite", "petition", "market",
                                      "auditor", "admin"])
def test_the_nav_entry_follows_the_services_scope(username, demo, web):

    text = html(web(username).get("/"))
    assert ('id="nav-accountability"' in nav(text)) == (scope_for(demo[username]) is not None)
    assert 'id="nav-notifications"' in nav(text)


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client):
    for url in ("/notifications/", "/accountability/", "/notifications/1/open/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
