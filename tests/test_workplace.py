"""The browser workplace (issue 5) through Django's test client: each page renders for the
roles it is for, a page the user may not see is a 404, forms keep what was typed and show
Chinese errors beside the inputs, and an action through a page changes the incident exactly
as the same action through the API."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from deadlines.models import Deadline, Heartbeat
from early_warnings.models import NoticeReceipt
from incidents.models import Incident, State

from .api import deadlines, local

PASSWORD = "demo-pass-2026"
HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:
    return response.content.decode()


def act_url(pk, action):
    return f"/incidents/{pk}/act/{action}/"


def warned(api, *, level=2, sections=("petition",), severity="major", **log):
    """An incident logged by the duty officer, assigned, judged and warned through the API."""
    inc = api.log(**log)
    api.act("command", inc["id"], "assign", sections=list(sections))
    api.act("command", inc["id"], "judge", veracity="true", severity=severity, analysis="业主集中维权")
    return api.act("command", inc["id"], "warn", level=level, subject="某小区业主", scope="全市",
                   matters="交房延期", measures="核实情况", delivery="fax")


def responding(api, *, level=2, approver="leader", **kw):
    inc = warned(api, level=level, **kw)
    api.act("command", inc["id"], "propose-response", level=level, reason="传播扩大")
    return api.act(approver, inc["id"], "approve-response")


def comparable(incident_json):
    """What an action changes, without ids and times: state, levels, deadline kinds/owners/states."""
    return {
        "state": incident_json["state"],
        "severity": incident_json["severity"],
        "veracity": incident_json["veracity"],
        "sections": sorted(incident_json["sections"]),
        "warning": incident_json["warning"] and incident_json["warning"]["level"],
        "receipts": incident_json["warning"] and sorted(
            (r["section"], bool(r["signed_at"])) for r in incident_json["warning"]["receipts"]),
        "response": incident_json["response"] and (incident_json["response"]["state"],
                                                   incident_json["response"]["level"]),
        "deadlines": sorted((d["kind"], d["owner"], d["state"]) for d in incident_json["deadlines"]),
        "verbs": [e["verb"] for e in incident_json["timeline"]],
    }


# --- dashboard and navigation ------------------------------------------------------------

HOME_PARTS = {"duty": ["duty", "section"], "command": ["command", "section"], "leader": ["leader"],
              "infohead": ["leader", "section"], "onsite": ["leader"], "petition": ["section"],
              "auditor": ["auditor"], "admin": ["auditor"]}


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(HOME_PARTS))
def test_each_role_has_its_own_home(username, web):
    page = web(username).get("/")
    assert page.status_code == 200
    assert page.context["parts"] == HOME_PARTS[username]
    text = html(page)
    assert "http://" not in re.sub(r'href="http[^"]*"', "", text.split("<body")[0])
    assert 'id="my-roles"' in text
    assert ('id="heartbeat"' in text) == (username == "command")
    assert ('id="home-log"' in text) == (username in ("duty", "command"))


@pytest.mark.django_db
def test_command_home_queues_deadlines_waiting_proposals_and_responses(api, web):
    warned(api, level=1)
    warned(api, level=3)
    waiting = warned(api, level=3, sections=("market",))["id"]
    api.act("command", waiting, "propose-response", level=3)
    responding(api, level=2)
    unjudged = api.log()["id"]
    Heartbeat.objects.create(name="sweep", beat_at=timezone.now())
    page = web("command").get("/")
    part = page.context["command"]
    assert [i.pk for i in part["to_judge"]] and unjudged in [i.pk for i in part["to_judge"]]
    assert [i.pk for i in part["waiting"]] == [waiting] and part["waiting_count"] == 1
    assert [(i.response.level, i.needed_days) for i in part["responses"]] == [(2, 5)]
    assert part["due_soon_count"] >= 1  # verification clocks (3 h) are running
    assert "从未运行" not in html(page) and not part["sweep_stale"]
    # Counts link to the lists they count.
    assert web("command").get("/incidents/?awaiting=approval").context["page"].paginator.count == 1
    soon = web("command").get("/incidents/?owing=due_soon").context["page"].paginator.count
    assert soon and soon <= part["due_soon_count"]  # incidents owing what the watch counts
    judged_list = web("command").get("/incidents/?awaiting=judgment").context["page"].object_list
    assert unjudged in [i.pk for i in judged_list]
    # The leader of level III sees the proposal first; the market section what it owes.
    infohead = web("infohead").get("/").context
    assert [r.incident_id for r in infohead["leader"]["approvals"]] == [waiting]
    assert infohead["leader"]["approvals_count"] == 1
    market = web("market").get("/").context["section"]
    assert market["receipts"] and all(d.owner_section.code == "market" for d in market["owed"])


@pytest.mark.django_db
def test_queues_keep_report_and_issue_order_whatever_order_the_work_came_in(api, web, time_machine):
    """The approvals queue is oldest report first and the notices to sign oldest notice first,
    read from their own indexes (each response keeps its incident's report time, each receipt
    its notice's issue time): proposals made and notices issued in another order change nothing."""
    start = timezone.now()
    time_machine.move_to(start)
    logged = []
    for hours in (0, 1, 2):
        time_machine.move_to(start + dt.timedelta(hours=hours))
        inc = api.log()
        api.act("command", inc["id"], "assign", sections=["petition"])
        api.act("command", inc["id"], "judge", veracity="true", severity="major", analysis="业主集中维权")
        logged.append(inc["id"])
    first, second, third = logged
    for hours, iid in zip((3, 4, 5), (third, first, second), strict=True):  # warned newest first
        time_machine.move_to(start + dt.timedelta(hours=hours))
        api.act("command", iid, "warn", level=2, subject="某小区业主", scope="全市", matters="交房延期",
                measures="核实情况", delivery="fax")
        api.act("command", iid, "propose-response", level=2, reason="传播扩大")
    time_machine.move_to(start + dt.timedelta(hours=6))
    assert [i.pk for i in web("command").get("/").context["command"]["waiting"]] == [first, second, third]
    assert [r.incident_id for r in web("leader").get("/").context["leader"]["approvals"]] == [first, second, third]
    page = html(web("leader").get("/approvals/"))
    assert [int(m) for m in re.findall(r'id="approval-(\d+)"', page)] == [first, second, third]
    assert [r["notice__incident_id"] for r in web("petition").get("/").context["section"]["receipts"]] == [
        third, first, second]


@pytest.mark.django_db
def test_homes_list_running_responses_lowest_level_first_then_newest(api, web):
    """Read level by level (the newest eight of each), the list is the first eight of the whole
    order (level, newest report first), and its count the navigation's."""
    second = responding(api, level=2)["id"]
    third = [responding(api, level=3, approver="infohead")["id"] for _ in range(9)]
    Incident.objects.filter(pk=third[0]).update(reported_at=timezone.now() + dt.timedelta(hours=1))
    Incident.objects.filter(pk__in=third[1:3]).update(reported_at=timezone.now() - dt.timedelta(days=3))
    newest = [third[0], *sorted(third[3:], reverse=True), *sorted(third[1:3], reverse=True)]
    part = web("command").get("/").context["command"]
    assert [i.pk for i in part["responses"]] == [second, *newest[:7]] and part["responses_count"] == 10
    assert all(i.detail_url == f"/incidents/{i.pk}/" for i in part["responses"])
    leader = web("infohead").get("/").context["leader"]
    assert [i.pk for i in leader["responses"]] == newest[:8] and leader["responses_count"] == 9


@pytest.mark.django_db
def test_duty_home_shows_the_quick_report_of_each_incident(api, web):
    iid = api.log()["id"]
    page = web("duty").get("/")
    [row] = [i for i in page.context["duty"]["recent"] if i.pk == iid]
    assert row.quick_state == "met" and "快报按时报送" in html(page)
    assert iid in [i.pk for i in web("duty").get("/incidents/?mine=true").context["page"].object_list]
    assert iid not in [i.pk for i in web("command").get("/incidents/?mine=true").context["page"].object_list]


@pytest.mark.django_db
def test_navigation_shows_the_pages_of_each_role(web):
    def nav(username):
        text = html(web(username).get("/"))
        return re.search(r'<ul class="navbar-nav[^"]*" id="nav-pages">(.*?)</ul>', text, re.S).group(1)

    assert "登记舆情" in nav("duty") and "审批" not in nav("duty")
    assert "登记舆情" in nav("command") and "我的待办" in nav("command")
    assert "审批" in nav("leader") and "登记舆情" not in nav("leader")
    assert "审批" in nav("infohead") and "我的待办" in nav("infohead")
    assert "我的待办" in nav("petition") and "登记舆情" not in nav("petition") and "审批" not in nav("petition")
    assert "舆情事件" in nav("auditor") and "我的待办" not in nav("auditor")


@pytest.mark.django_db
def test_login_lands_on_the_dashboard(client, demo):
    response = client.post("/accounts/login/", {"username": "petition", "password": PASSWORD}, follow=True)
    assert response.status_code == 200 and 'id="home-section"' in html(response)


# --- 登记舆情 --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_intake_form_defaults_to_now_and_shows_the_quick_report_clock(web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 7), tick=False)
    page = web("duty").get("/incidents/new/")
    text = html(page)
    assert page.status_code == 200
    assert 'id="id_new_discovered_at" name="discovered_at" value="2026-11-02T09:07"' in text
    assert 'id="quick-clock"' in text and 'data-minutes="60"' in text
    assert 'name="sources-0-url"' in text and 'id="source-row-template"' in text
    assert "我最近登记的舆情" in text


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["petition", "leader", "auditor", "onsite"])
def test_intake_form_is_not_there_for_other_roles(username, web):
    assert web(username).get("/incidents/new/").status_code == 404


@pytest.mark.django_db
def test_intake_keeps_input_and_shows_chinese_errors_beside_the_inputs(web):
    form = {
        "title": "", "summary": "业主发帖反映交房延期", "channel": "monitoring",
        "discovered_at": "2026-11-02T08:40", "keywords": "交房 延期",
        "sources-0-url": "https://tieba.example.com/p/1", "sources-0-platform": "forum",
        "sources-3-url": "ftp://bad.example.com", "sources-3-platform": "weibo", "sources-3-mainstream_first": "on",
        "sections": ["petition"], "classified": "on",
    }
    page = web("duty").post("/incidents/new/", form)
    text = html(page)
    assert page.status_code == 200 and Incident.objects.count() == 0
    assert re.search(r'id="id_new_title" name="title" value=""[^>]*>\s*<div class="invalid-feedback">该字段是必填项。', text)
    assert "请输入以 http:// 或 https:// 开头的有效网址。" in text
    # the error sits on the row the user typed it in, and every value is still there
    assert re.search(r'is-invalid" id="id_sources-3-url" name="sources-3-url" value="ftp://bad.example.com"', text)
    assert 'value="https://tieba.example.com/p/1"' in text and "业主发帖反映交房延期" in text
    assert 'value="交房 延期"' in text and 'value="2026-11-02T08:40"' in text
    assert re.search(r'name="sources-3-mainstream_first" checked', text)
    assert re.search(r'name="sections" value="petition" checked', text)
    assert re.search(r'name="classified" checked', text)


@pytest.mark.django_db
def test_intake_maps_a_service_error_to_its_field(web):
    tomorrow = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = web("duty").post("/incidents/new/", {"title": "标题", "summary": "摘要", "channel": "monitoring",
                                                "discovered_at": tomorrow})
    assert page.status_code == 200
    assert re.search(r'id="id_new_discovered_at"[^>]*>\s*<div class="invalid-feedback">发现时间不能晚于当前时间。', html(page))


@pytest.mark.django_db
def test_intake_logs_like_the_api(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    response = web("duty").post("/incidents/new/", {
        "title": "某小区业主在贴吧集中反映交房延期", "summary": "多名业主发帖称交房延期，帖文被转发。",
        "channel": "monitoring", "discovered_at": "2026-11-02T08:40",
        "sources-0-url": "https://tieba.example.com/p/1", "sources-0-platform": "forum",
        "sources-1-url": "", "sources-1-platform": "",  # an empty row is skipped
        "sources-2-url": "https://weibo.example.com/2", "sources-2-platform": "weibo",
        "sources-2-mainstream_first": "on",
    })
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/"
    assert [(s.platform, s.mainstream_first) for s in incident.sources.all()] == [("forum", False), ("weibo", True)]
    from_page = api.get("command", f"/api/v1/incidents/{incident.pk}/").json()
    from_api = api.log(discovered_at=local(2026, 11, 2, 8, 40).isoformat())
    assert comparable(from_page) == comparable(from_api)
    (quick,) = deadlines(from_page, "quick")
    assert quick["state"] == "met"
    detail = web("duty").get(response["Location"])
    assert "已登记舆情" in html(detail) and incident.title in html(detail)
    # my recent incidents
    assert f"/incidents/{incident.pk}/" in html(web("duty").get("/incidents/new/"))


# --- incident list -------------------------------------------------------------------------

@pytest.mark.django_db
def test_list_filters_search_and_pagination(api, web):
    a = warned(api, level=2, title="甲小区交房延期")
    b = warned(api, level=4, sections=("market",), title="乙楼盘烂尾传言")
    c = api.log(title="丙小区物业纠纷", keywords="物业 停水")
    client = web("command")

    def ids(**params):
        page = client.get("/incidents/", params)
        assert page.status_code == 200
        return {i.pk for i in page.context["page"].object_list}

    assert ids() == {a["id"], b["id"], c["id"]}
    assert ids(state="reported") == {c["id"]}
    assert ids(warning_level=4) == {b["id"]}
    assert ids(section="petition") == {a["id"]}
    assert ids(severity="major") == {a["id"], b["id"]}
    assert ids(q="停水") == {c["id"]}  # keywords, through the API's search_filter
    assert ids(q="甲小区 延期") == {a["id"]}
    assert ids(open="1", warning_level=2) == {a["id"]}
    # nothing a browser can send ends in a 500
    assert ids(state="nonsense", warning_level="x", page="zz") == {a["id"], b["id"], c["id"]}
    # the sections see only their own
    assert {i.pk for i in web("market").get("/incidents/").context["page"].object_list} == {b["id"]}


@pytest.mark.django_db
def test_list_answers_htmx_with_the_table_only(api, web):
    api.log(title="甲小区交房延期")
    page = web("command").get("/incidents/", {"q": "甲小区"}, **HTMX)
    text = html(page)
    assert page.status_code == 200 and text.startswith('<div id="incident-table">') and "<html" not in text
    assert "甲小区交房延期" in text


@pytest.mark.django_db
def test_classified_titles_stay_hidden_outside_their_sections(api, web):
    inc = api.log("command", title="涉密标题", classified=True, sections=["petition"])
    assert "涉密标题" not in html(web("duty").get("/incidents/"))
    assert f"【涉密】舆情事件 #{inc['id']}" in html(web("duty").get("/incidents/"))
    assert "涉密标题" in html(web("petition").get("/incidents/"))
    detail = html(web("duty").get(f"/incidents/{inc['id']}/"))
    assert "涉密标题" not in detail and "内容仅对责任股室、指挥小组和领导可见" in detail


# --- incident detail ------------------------------------------------------------------------

@pytest.mark.django_db
def test_another_sections_incident_is_a_404_by_url(api, web):
    inc = warned(api, sections=("market",))
    for url in (f"/incidents/{inc['id']}/", f"/incidents/{inc['id']}/panels/deadlines/"):
        page = web("petition").get(url)
        assert page.status_code == 404 and "页面不存在" in html(page)
    page = web("petition").post(act_url(inc["id"], "report"), {"kind": "status", "section": "petition", "zero": "true"})
    assert page.status_code == 404
    assert web("petition").get("/incidents/999999/").status_code == 404
    assert web("command").post(act_url(inc["id"], "no-such-action"), {}).status_code == 404


@pytest.mark.django_db
def test_detail_shows_everything_and_the_forms_each_role_may_use(api, web):
    inc = responding(api, level=2, sections=("petition",))
    iid = inc["id"]
    command = html(web("command").get(f"/incidents/{iid}/"))
    for part in ("舆情概况", "研判", "预警通知", "签收情况", "应急响应", "连续平稳工作日", "期限", "报告",
                 "口径与声明", "附件", "处置记录", "传播数据", "信息来源"):
        assert part in command, part
    for action in ("judge", "assign", "warn", "lift-warning", "propose-response", "assess", "report",
                   "publicity", "request-support", "add-source", "record-spread", "attach"):
        assert act_url(iid, action) in command, action
    assert act_url(iid, "approve-response") not in command  # not a body member
    assert act_url(iid, "draft-statement") not in command  # command's sections are not assigned
    assert 'data-due="' in command  # live countdowns

    petition = html(web("petition").get(f"/incidents/{iid}/"))
    assert "零报告（信访科）" in petition and "签收（信访科" in petition
    for action in ("draft-statement", "add-source", "record-spread", "attach", "sign"):
        assert act_url(iid, action) in petition, action
    for action in ("judge", "assign", "warn", "propose-response", "assess", "close"):
        assert act_url(iid, action) not in petition, action

    auditor = html(web("auditor").get(f"/incidents/{iid}/"))
    assert "/act/" not in auditor  # read-only


@pytest.mark.django_db
def test_actions_through_the_pages_change_state_exactly_like_the_api(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    by_api = api.log()
    by_page = api.log()
    page, command = by_page["id"], web("command")

    steps = [
        ("command", "assign", {"sections": ["petition", "market"]}),
        ("command", "judge", {"veracity": "true", "severity": "major", "analysis": "可能扩散"}),
        ("command", "warn", {"level": 2, "subject": "某小区业主", "scope": "全市", "matters": "交房延期",
                             "measures": "核实", "delivery": "fax"}),
        ("petition", "report", {"kind": "verification", "section": "petition", "body": "已核实"}),
        ("command", "report", {"kind": "flash", "body": "舆情快报"}),
        ("command", "propose-response", {"level": 2, "reason": "扩大"}),
        ("leader", "approve-response", {}),
        ("market", "report", {"kind": "status", "section": "market", "zero": True}),
    ]
    for username, action, payload in steps:
        api.act(username, by_api["id"], action, **payload)
        form = {k: ("true" if v is True else v) for k, v in payload.items()}
        response = web(username).post(act_url(page, action), form, **HTMX)
        assert response.status_code == 200, (action, html(response)[:400])
        assert 'id="incident-body"' in html(response) and "alert-success" in html(response), action
    notice = api.get("petition", f"/api/v1/incidents/{by_api['id']}/").json()["warning"]["notice"]
    api.act("petition", by_api["id"], "sign", notice=notice, section="petition")
    page_notice = api.get("petition", f"/api/v1/incidents/{page}/").json()["warning"]["notice"]
    web("petition").post(act_url(page, "sign"), {"notice": page_notice, "section": "petition"}, **HTMX)

    assert comparable(api.get("command", f"/api/v1/incidents/{page}/").json()) == \
        comparable(api.get("command", f"/api/v1/incidents/{by_api['id']}/").json())
    final = command.get(f"/incidents/{page}/")
    assert final.context["incident"].state == State.RESPONDING


@pytest.mark.django_db
def test_action_errors_keep_the_input_and_show_chinese_field_errors(api, web):
    inc = api.log()
    api.act("command", inc["id"], "assign", sections=["petition"])
    response = web("command").post(act_url(inc["id"], "warn"), {
        "_form": "warn", "level": "", "subject": "某小区业主", "scope": "全市范围", "matters": "",
        "measures": "", "delivery": "fax"}, **HTMX)
    text = html(response)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#panel-warning" and response["HX-Reswap"] == "outerHTML"
    assert text.startswith('<section id="panel-warning"')
    assert re.search(r'name="matters"[^>]*></textarea>\s*<div class="invalid-feedback">该字段是必填项。', text)
    assert 'value="某小区业主"' in text and "全市范围</textarea>" in text
    assert re.search(r'<option value="fax" selected>', text)
    assert "<details class=\"action\" open>" in text  # the form stays open
    assert 'id="messages" class="app-messages" aria-live="polite" hx-swap-oob="true"' in text
    assert Incident.objects.get(pk=inc["id"]).state == State.JUDGING  # nothing happened

    # The same without htmx: the whole page, with the form as typed.
    page = web("command").post(act_url(inc["id"], "judge"), {"_form": "judge", "veracity": "true",
                                                             "analysis": "分析内容"})
    assert page.status_code == 200
    text = html(page)
    assert "分析内容</textarea>" in text and "该字段是必填项。" in text and "<html" in text


@pytest.mark.django_db
def test_service_validation_error_lands_beside_its_input(api, web):
    inc = responding(api, level=3, approver="infohead")
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = web("command").post(act_url(inc["id"], "assess"), {"_form": "assess", "date": future,
                                                                  "stable": "true", "note": "平稳"}, **HTMX)
    text = html(response)
    assert response["HX-Retarget"] == "#panel-response"
    assert re.search(rf'name="date" value="{future}"[^>]*>\s*<div class="invalid-feedback">不能研判未来的日期。', text)
    assert "平稳</textarea>" in text


@pytest.mark.django_db
def test_forbidden_and_conflict_become_messages_without_losing_input(api, web):
    inc = warned(api)
    # Conflict: the response cannot be lifted before it is stable long enough.
    response = web("command").post(act_url(inc["id"], "close"), {"_form": "close"}, **HTMX)
    assert response.status_code == 200 and "预警仍在生效中" in html(response) and "alert-danger" in html(response)
    # Forbidden: a section member may not judge; the message says so, the page keeps the text.
    page = web("petition").post(act_url(inc["id"], "judge"), {"_form": "judge", "veracity": "false",
                                                              "severity": "minor", "analysis": "我的分析"})
    assert page.status_code == 200
    text = html(page)
    assert "您的角色不能执行" in text and "alert-danger" in text
    assert Incident.objects.get(pk=inc["id"]).severity == "major"
    # Signing twice is a conflict, told as a message.
    notice = inc["warning"]["notice"]
    web("petition").post(act_url(inc["id"], "sign"), {"notice": notice, "section": "petition"})
    again = web("petition").post(act_url(inc["id"], "sign"), {"notice": notice, "section": "petition"}, **HTMX)
    assert again.status_code == 200 and "该预警通知已于" in html(again)


@pytest.mark.django_db
def test_warning_form_previews_the_seven_fields_and_adjusts(api, web):
    inc = warned(api, level=3)
    text = html(web("command").get(f"/incidents/{inc['id']}/"))
    preview = text.split('class="notice-preview card"')[1].split("</dl>")[0]
    for key, label in [("subject", "舆情对象"), ("level", "预警级别"), ("start_at", "起始时间"), ("scope", "可能影响范围"),
                       ("matters", "预警事项"), ("measures", "应采取的措施"), ("issuing_body", "发布机关")]:
        assert f'data-preview="{key}"' in preview and label in preview, key
        assert f'data-preview-source="{key}"' in text, key
    assert "data-notice-form" in text and "调整预警级别" in text
    response = web("command").post(act_url(inc["id"], "warn"), {
        "_form": "adjust", "level": 2, "subject": "某小区业主", "scope": "全市", "matters": "升级",
        "measures": "加强", "delivery": "phone"}, **HTMX)
    assert "预警级别已调整" in html(response)
    assert Incident.objects.get(pk=inc["id"]).warning.level == 2


@pytest.mark.django_db
def test_reports_zero_report_summary_and_close_through_the_page(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=3, approver="infohead")
    iid = inc["id"]
    time_machine.move_to(local(2026, 11, 2, 10, 30), tick=False)
    response = web("petition").post(act_url(iid, "report"), {"_form": "zero_report", "kind": "status",
                                                             "section": "petition", "zero": "true"}, **HTMX)
    assert "零报告已提交" in html(response)
    (nxt,) = Deadline.objects.filter(incident_id=iid, kind="status", state="open")
    assert nxt.due_at == local(2026, 11, 2, 18, 30)  # level III: 8 h from the zero-report
    for day in (2, 3, 4):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        web("command").post(act_url(iid, "assess"), {"date": f"2026-11-0{day}", "stable": "true"})
    detail = web("command").get(f"/incidents/{iid}/")
    assert detail.context["response"].stable_working_days == 3 and detail.context["lift_eligible"]
    web("command").post(act_url(iid, "propose-lift"), {"reason": "连续平稳"})
    web("infohead").post(act_url(iid, "approve-lift"), {})
    assert Incident.objects.get(pk=iid).state == State.AFTERMATH
    # The summary report with R51's five parts, then close.
    parts = {"characteristics": "集中爆发", "measures_effect": "及时回应", "experience": "快速核实",
             "problems": "首报偏慢", "recommendations": "加强监看"}
    response = web("command").post(act_url(iid, "report"), {"_form": "summary", "kind": "summary", **parts})
    assert response.status_code == 302
    text = html(web("command").get(f"/incidents/{iid}/panels/reports/"))  # the reports panel, opened
    assert all(v in text for v in parts.values())
    api.tie_up(iid)
    web("command").post(act_url(iid, "close"), {"lift_warning_reason": "舆情平息"})
    assert Incident.objects.get(pk=iid).state == State.CLOSED
    text = html(web("command").get(f"/incidents/{iid}/"))
    assert act_url(iid, "reopen") in text and act_url(iid, "close") not in text


@pytest.mark.django_db
def test_statements_are_drafted_by_the_section_and_approved_by_command(api, web):
    inc = warned(api)
    iid = inc["id"]
    missing = web("petition").post(act_url(iid, "draft-statement"), {
        "_form": "draft_statement", "section": "petition", "kind": "line", "title": "", "body": "口径正文"}, **HTMX)
    assert "该字段是必填项。" in html(missing) and "口径正文</textarea>" in html(missing)
    web("petition").post(act_url(iid, "draft-statement"), {"section": "petition", "kind": "line",
                                                           "title": "统一口径", "body": "口径正文"})
    statement = Incident.objects.get(pk=iid).statements.get()
    reject = web("command").post(act_url(iid, "reject-statement"), {
        "_form": f"reject_statement_{statement.pk}", "statement": statement.pk, "reason": ""}, **HTMX)
    assert "该字段是必填项。" in html(reject)
    web("command").post(act_url(iid, "approve-statement"), {"statement": statement.pk})
    web("command").post(act_url(iid, "release-statement"), {"statement": statement.pk})
    statement.refresh_from_db()
    assert statement.state == "released"


@pytest.mark.django_db
def test_sources_spread_and_attachments_through_the_page(api, web, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inc = warned(api)
    iid = inc["id"]
    bad = web("petition").post(act_url(iid, "add-source"), {"_form": "add_source", "url": "nota-url",
                                                            "platform": "weibo"}, **HTMX)
    assert "请输入以 http:// 或 https:// 开头的有效网址。" in html(bad) and 'value="nota-url"' in html(bad)
    web("petition").post(act_url(iid, "add-source"), {"url": "https://weibo.example.com/1", "platform": "weibo",
                                                      "mainstream_first": "on"})
    web("duty").post(act_url(iid, "record-spread"), {"platform": "weibo", "posts": "12", "views": "3400",
                                                     "recorded_at": "2026-01-05T10:00"})
    incident = Incident.objects.get(pk=iid)
    assert incident.sources.filter(mainstream_first=True).count() == 1
    assert incident.spread.get().views == 3400
    wrong = web("petition").post(act_url(iid, "attach"), {"file": SimpleUploadedFile("x.exe", b"MZ", "application/x-msdownload")},
                                 **HTMX)
    assert "不支持的文件类型" in html(wrong)
    web("petition").post(act_url(iid, "attach"), {"file": SimpleUploadedFile("核实.txt", "情况属实".encode(), "text/plain"),
                                                  "note": "核实材料"})
    attachment = incident.attachments.get()
    text = html(web("petition").get(f"/incidents/{iid}/"))
    assert f"/incidents/{iid}/panels/attachments/" in text  # one line: 附件（1）, opened on request
    text = html(web("petition").get(f"/incidents/{iid}/panels/attachments/"))
    assert f"/api/v1/attachments/{attachment.pk}/download/" in text
    download = web("petition").get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == "情况属实".encode()
    assert web("market").get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 404


# --- approvals inbox ------------------------------------------------------------------------

@pytest.mark.django_db
def test_approvals_inbox_lists_only_the_users_level(api, web):
    two = warned(api, level=2, title="二级事件")
    api.act("command", two["id"], "propose-response", level=2, reason="扩大")
    three = warned(api, level=3, title="三级事件")
    api.act("command", three["id"], "propose-response", level=3, reason="关注")

    def listed(username):
        page = web(username).get("/approvals/")
        assert page.status_code == 200
        return {item["incident"].pk for item in page.context["items"]}

    assert listed("leader") == {two["id"]}
    assert listed("infohead") == {three["id"]}
    assert listed("onsite") == set()
    text = html(web("leader").get("/approvals/"))
    assert "二级事件" in text and "三级事件" not in text
    assert "业主集中维权" in text and "交房延期" in text and "最近处置记录" in text  # judgment, warning, timeline
    for username in ("petition", "command", "duty", "auditor"):
        assert web(username).get("/approvals/").status_code == 404


@pytest.mark.django_db
def test_a_leader_approves_and_rejects_from_the_inbox(api, web):
    a = warned(api, level=2)
    api.act("command", a["id"], "propose-response", level=2, reason="扩大")
    b = warned(api, level=1)
    api.act("command", b["id"], "propose-response", level=1, reason="更大")
    inbox = web("leader")
    empty = inbox.post(act_url(b["id"], "reject-response"), {"_from": "approvals", "_form": f"reject_{b['id']}",
                                                             "reason": ""}, **HTMX)
    assert empty["HX-Retarget"] == "#approvals" and "该字段是必填项。" in html(empty)
    response = inbox.post(act_url(a["id"], "approve-response"), {"_from": "approvals"}, **HTMX)
    assert response.status_code == 200 and "已批准应急响应级别" in html(response)
    assert Incident.objects.get(pk=a["id"]).response.state == "active"
    inbox.post(act_url(b["id"], "reject-response"), {"_from": "approvals", "reason": "暂不需要"}, **HTMX)
    assert not hasattr(Incident.objects.get(pk=b["id"]), "response")
    assert inbox.get("/approvals/").context["items"] == []


@pytest.mark.django_db
def test_lift_proposals_reach_the_inbox_with_the_stable_day_counter(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=4, approver="onsite")
    for day in (2, 3, 4):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        api.act("command", inc["id"], "assess", date=f"2026-11-0{day}", stable=True)
    api.act("command", inc["id"], "propose-lift", reason="平稳")
    page = web("onsite").get("/approvals/")
    (item,) = page.context["items"]
    assert item["lift"] and "3 / 3" in html(page)
    assert web("leader").get("/approvals/").context["items"] == []
    web("onsite").post(act_url(inc["id"], "approve-lift"), {"_from": "approvals"}, **HTMX)
    assert Incident.objects.get(pk=inc["id"]).state == State.AFTERMATH


# --- 我的待办 --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_todo_lists_my_sections_deadlines_soonest_first_with_urgency(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    mine = responding(api, level=1, sections=("petition",))  # verification 12:00, status 12:00 (3 h)
    warned(api, sections=("market",))  # not mine
    time_machine.move_to(local(2026, 11, 2, 11, 30), tick=False)
    page = web("petition").get("/todo/")
    assert page.status_code == 200
    owed = page.context["deadlines"]
    assert {d.incident_id for d in owed} == {mine["id"]}
    assert {d.kind for d in owed} == {"verification", "status"}
    assert [d.due_at for d in owed] == sorted(d.due_at for d in owed)
    text = html(page)
    assert "urgency-row urgency-1h" in text and 'class="countdown urgency-1h"' in text
    assert "待签收的预警通知" in text
    time_machine.move_to(local(2026, 11, 2, 12, 30), tick=False)
    assert "urgency-row urgency-overdue" in html(web("petition").get("/todo/"))
    # the command group's own deadlines (flash, feedback, briefing, judgment) are in its list
    assert {d.kind for d in web("command").get("/todo/").context["deadlines"]} >= {"flash", "feedback"}
    assert web("auditor").get("/todo/").status_code == 404


@pytest.mark.django_db
def test_the_notices_to_sign_leave_out_a_closed_incidents(api, web, time_machine):
    """我的待办 and the navigation's count read the receipts' own ``incident_closed`` (kept by
    the close and reopen steps: tests/test_lifecycle.py), not the incident's state."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=2, sections=("petition",))
    client = web("petition")
    assert len(client.get("/todo/").context["receipts"]) == 1
    NoticeReceipt.objects.filter(notice__incident_id=inc["id"]).update(incident_closed=True)
    assert client.get("/todo/").context["receipts"] == []
    NoticeReceipt.objects.filter(notice__incident_id=inc["id"]).update(incident_closed=False)
    assert len(client.get("/todo/").context["receipts"]) == 1


@pytest.mark.django_db
def test_sign_and_zero_report_from_the_todo_list(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=2, sections=("petition",))
    client = web("petition")
    (receipt,) = client.get("/todo/").context["receipts"]
    response = client.post(act_url(inc["id"], "sign"), {"_from": "todo", "notice": receipt.notice_id,
                                                        "section": "petition"}, **HTMX)
    assert response["HX-Retarget"] == "#todo" and "已签收预警通知" in html(response)
    assert NoticeReceipt.objects.get(pk=receipt.pk).signed_by.username == "petition"
    assert client.get("/todo/").context["receipts"] == []
    time_machine.move_to(local(2026, 11, 2, 10, 0), tick=False)
    client.post(act_url(inc["id"], "report"), {"_from": "todo", "kind": "status", "section": "petition",
                                               "zero": "true"}, **HTMX)
    status = [d for d in client.get("/todo/").context["deadlines"] if d.kind == "status"]
    assert [d.due_at for d in status] == [local(2026, 11, 2, 16, 0)]  # the 6-hour cadence restarted


@pytest.mark.django_db
def test_the_todo_rows_forms_post_without_htmx_too(api, web, time_machine):
    """The rows and their forms are printed in Python (workplace/todo_list.py): each form posts
    with its CSRF token and hidden fields, and without htmx the answer is the list again."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=2, sections=("petition",))
    client = Client(enforce_csrf_checks=True)
    client.force_login(web("petition").get("/todo/").wsgi_request.user)
    page = client.get("/todo/")
    text = html(page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    assert f'action="{act_url(inc["id"], "sign")}"' in text and 'name="_form" value="sign"' in text
    assert f'action="{act_url(inc["id"], "report")}"' in text and 'name="_form" value="zero_report"' in text
    (receipt,) = page.context["receipts"]
    response = client.post(act_url(inc["id"], "sign"), {"csrfmiddlewaretoken": token, "_from": "todo", "page": "1",
                                                        "notice": receipt.notice_id, "section": "petition"})
    assert response.status_code == 302 and response["Location"] == "/todo/"
    assert NoticeReceipt.objects.get(pk=receipt.pk).signed_by.username == "petition"
    assert "已签收预警通知" in html(client.get("/todo/")) and client.get("/todo/").context["receipts"] == []


@pytest.mark.django_db
def test_panels_refresh_alone_and_htmx_answers_update_the_navigation(api, web):
    inc = responding(api, level=2, sections=("petition",))
    panel = web("petition").get(f"/incidents/{inc['id']}/panels/deadlines/", **HTMX)
    assert panel.status_code == 200 and html(panel).startswith('<section id="panel-deadlines"')
    assert web("petition").get(f"/incidents/{inc['id']}/panels/nonsense/").status_code == 404
    response = web("petition").post(act_url(inc["id"], "sign"), {"notice": inc["warning"]["notice"],
                                                                 "section": "petition"},
                                    HTTP_HX_CURRENT_URL=f"http://testserver/incidents/{inc['id']}/", **HTMX)
    assert 'id="nav-pages" hx-swap-oob="true"' in html(response)


@pytest.mark.django_db
def test_english_interface_on_request(web):
    client = web("command")
    client.cookies["django_language"] = "en"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and '<html lang="en">' in html(page)


@pytest.mark.django_db
def test_the_list_keeps_the_highest_levels_and_filters_by_date(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = responding(api, level=2)
    api.act("command", inc["id"], "warn", level=3, subject="某小区业主", scope="全市", matters="交房延期",
            measures="核实情况", delivery="fax")  # lowered: the list still says it reached II
    time_machine.move_to(local(2026, 11, 5, 9, 0), tick=False)
    later = api.log()["id"]
    detail = api.get("command", f"/api/v1/incidents/{inc['id']}/").json()
    assert detail["highest_warning_level"] == 2 and detail["highest_response_level"] == 2
    page = web("command").get("/incidents/")
    assert "曾达Ⅱ级" in html(page)
    ids = lambda url: [i.pk for i in web("command").get(url).context["page"].object_list]  # noqa: E731
    assert ids("/incidents/?from=2026-11-02&to=2026-11-02") == [inc["id"]]
    assert ids("/incidents/?from=2026-11-03") == [later]
    assert ids("/incidents/?date=discovered&to=2026-11-04") == [inc["id"]]
    api_ids = [i["id"] for i in api.get("command", "/api/v1/incidents/", **{"from": "2026-11-05"}).json()["results"]]
    assert api_ids == [later]


@pytest.mark.django_db
def test_the_migration_fills_the_highest_levels_from_the_record(api):
    import importlib

    from django.apps import apps as django_apps

    inc = responding(api, level=2)
    api.act("command", inc["id"], "warn", level=3, subject="s", scope="全市", matters="m", measures="m",
            delivery="fax")
    Incident.objects.update(highest_warning_level=None, highest_response_level=None)
    importlib.import_module("incidents.migrations.0010_incident_highest_levels").fill(django_apps, None)
    assert Incident.objects.values_list("highest_warning_level", "highest_response_level").get(pk=inc["id"]) == (2, 2)


# --- the case file (issue 15) ---------------------------------------------------------------

@pytest.mark.django_db
def test_the_case_file_says_the_next_step_and_what_it_still_needs(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    inc = warned(api)
    iid = inc["id"]
    page = web("command").get(f"/incidents/{iid}/")
    assert [a.name for a in page.context["steps"]["now"]] == ["propose-response"]
    for group in ("group-record", "group-decisions", "group-documents", "group-timeline"):
        assert f'id="{group}"' in html(page), group
    # an action no panel has a form for is rendered from its payload (here: withdrawing a proposal)
    api.act("command", iid, "propose-response", level=2, reason="传播范围扩大")
    text = html(web("command").get(f"/incidents/{iid}/"))
    assert act_url(iid, "withdraw-proposal") in text and "撤回响应提议" in text
    response = web("command").post(act_url(iid, "withdraw-proposal"), {"_form": "withdraw_proposal", "reason": ""},
                                   **HTMX)
    assert "该字段是必填项。" in html(response) or "请填写撤回理由。" in html(response)
    web("command").post(act_url(iid, "withdraw-proposal"), {"_form": "withdraw_proposal", "reason": "再观察"})
    assert Incident.objects.get(pk=iid).response_proposals.get().decision == "withdrawn"
    # the leader's header offers the approval when there is one
    api.act("command", iid, "propose-response", level=2, reason="传播范围扩大")
    leader = web("leader").get(f"/incidents/{iid}/")
    assert "approve-response" in [a.name for a in leader.context["steps"]["now"]]
    # aftermath: the close waits for the summary report, and says so before anyone tries
    api.act("leader", iid, "approve-response")
    for day in (2, 3, 4, 5, 6):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=f"2026-11-0{day}", stable=True)
    api.act("command", iid, "propose-lift", reason="连续平稳")
    api.act("leader", iid, "approve-lift")
    page = web("command").get(f"/incidents/{iid}/")
    assert [b["action"].name for b in page.context["steps"]["blocked"]] == ["close"]
    assert "办结前须提交舆情分析专题报告。" in html(page) and act_url(iid, "close") not in html(page)
