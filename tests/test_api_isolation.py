"""Who sees what through the API (R2, R4, R6, R54).

A section sees only the incidents assigned to it; to everyone else such an incident does not
exist (404, never 403). The command group, leadership, the auditor and the duty desk see every
incident; a level's body sees an incident while a response is proposed for or active at its
level. Classified content is withheld from everyone outside its sections, the command group
and leadership. Incidents are built through the API as the demo users would.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from incidents.models import TimelineEvent
from lifecycle.actions import ACTIONS

from .api import Api, ready_to_respond

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/incidents/"


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


class Desk:
    """The demo users at their desks, one force-authenticated API client each."""

    def __init__(self, users):
        self.users = users

    def as_(self, username, lang=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=lang) if lang else APIClient()
        client.force_authenticate(self.users[username])
        return client

    def get(self, username, url, **params):
        return self.as_(username).get(url, params)

    def log(self, by="duty", **fields) -> dict:
        payload = {
            "title": "某小区业主在贴吧集中反映交房延期",
            "summary": "多名业主发帖称交房延期，帖文被大量转发。",
            "channel": "monitoring",
            "discovered_at": dt.datetime.now(SHANGHAI).isoformat(),
            "sources": [{"url": "https://tieba.example.com/p/1", "platform": "forum"}],
            **fields,
        }
        response = self.as_(by).post(URL, payload, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def act(self, by, pk, action, expect=200, **payload):
        response = self.as_(by).post(f"{URL}{pk}/{action}/", payload, format="json")
        assert response.status_code == expect, (by, action, response.status_code, response.content)
        return response.json() if response.content else None


@pytest.fixture
def desk(demo):
    return Desk(demo)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


WARNING = {"level": 3, "subject": "交房延期涉事楼盘", "scope": "全市购房群体", "matters": "业主聚集维权风险",
           "measures": "核实交房进度并及时回应", "delivery": "system"}

# A plausible payload for every action: refusals must not depend on the payload being wrong.
PAYLOADS = {
    "assign": {"sections": ["market"]},
    "unassign": {"sections": ["petition"]},
    "judge": {"veracity": "true", "severity": "medium", "analysis": "属实"},
    "warn": WARNING,
    "lift-warning": {"reason": "舆情平息"},
    "propose-response": {"level": 4, "reason": "需现场处置"},
    "reject-response": {"reason": "不需要"},
    "assess": {"date": "2026-06-08", "stable": True, "note": "平稳"},
    "propose-lift": {"reason": "平稳"},
    "reject-lift": {"reason": "尚未平稳"},
    "report": {"kind": "verification", "section": "market", "body": "已核实"},
    "reopen": {"reason": "舆情反复"},
    "sign": {"notice": 1, "section": "market"},
    "add-source": {"url": "https://weibo.example.com/2", "platform": "weibo"},
    "record-spread": {"platform": "weibo", "posts": 10},
    "request-support": {"content": "请求市委宣传部支援"},
    "answer-support": {"request": 1, "answer": "同意"},
    "publicity": {"tier": "positive", "note": "正面回应"},
    "draft-statement": {"section": "market", "kind": "statement", "title": "情况通报", "body": "正文"},
    "approve-statement": {"statement": 1},
    "reject-statement": {"statement": 1, "reason": "修改"},
    "release-statement": {"statement": 1},
}


@pytest.fixture
def petition_case(desk):
    """Logged by the duty desk, assigned by the command group to 信访科 only."""
    incident = desk.log(title="信访群众反映拆迁补偿不到位", summary="有群众在论坛发帖反映补偿问题。",
                        keywords="拆迁 补偿")
    desk.act("command", incident["id"], "assign", sections=["petition"])
    return incident


# --- sections ---------------------------------------------------------------------------

def test_the_assigned_section_sees_its_incident_in_detail_list_search_and_section_filter(desk, petition_case):
    pk = petition_case["id"]
    detail = desk.get("petition", f"{URL}{pk}/")
    assert detail.status_code == 200
    assert detail.json()["title"] == "信访群众反映拆迁补偿不到位"
    assert detail.json()["sections"] == ["petition"]
    assert pk in ids(desk.get("petition", URL))
    assert pk in ids(desk.get("petition", URL, q="拆迁"))
    assert pk in ids(desk.get("petition", URL, section="petition"))


def test_another_section_gets_404_never_403_for_an_incident_not_assigned_to_it(desk, petition_case):
    response = desk.get("market", f"{URL}{petition_case['id']}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}
    # exactly what a nonexistent id answers: nothing tells market the incident exists
    assert desk.get("market", f"{URL}999999/").json() == response.json()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_another_section_gets_404_on_every_action_of_an_incident_not_assigned_to_it(desk, petition_case, action):
    pk = petition_case["id"]
    before = TimelineEvent.objects.filter(incident_id=pk).count()
    response = desk.as_("market").post(f"{URL}{pk}/{action}/", PAYLOADS.get(action, {}), format="json")
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "未找到。"}
    assert TimelineEvent.objects.filter(incident_id=pk).count() == before


def test_another_section_finds_the_incident_neither_in_its_list_nor_by_search(desk, petition_case):
    pk = petition_case["id"]
    assert pk not in ids(desk.get("market", URL))
    assert desk.get("market", URL).json()["count"] == 0
    assert ids(desk.get("market", URL, q="拆迁")) == []
    assert ids(desk.get("market", URL, section="petition")) == []


def test_unassigning_a_section_takes_the_incident_away_and_assigning_another_gives_it(desk, petition_case):
    pk = petition_case["id"]
    desk.act("command", pk, "unassign", sections=["petition"])
    assert desk.get("petition", f"{URL}{pk}/").status_code == 404
    assert pk not in ids(desk.get("petition", URL))
    assert desk.as_("petition").post(f"{URL}{pk}/record-spread/", {"platform": "forum"},
                                      format="json").status_code == 404

    assert desk.get("market", f"{URL}{pk}/").status_code == 404
    desk.act("command", pk, "assign", sections=["market"])
    detail = desk.get("market", f"{URL}{pk}/")
    assert detail.status_code == 200 and detail.json()["sections"] == ["market"]
    assert pk in ids(desk.get("market", URL))
    assert pk in ids(desk.get("market", URL, q="拆迁"))
    # and market can now act on it as a section does
    desk.act("market", pk, "record-spread", platform="forum", posts=12)


@pytest.mark.parametrize("username", ["command", "command2", "leader", "auditor", "duty"])
def test_command_leadership_auditor_and_duty_see_every_incident(desk, username):
    assigned = desk.log(title="甲", sections=[])
    desk.act("command", assigned["id"], "assign", sections=["petition"])
    unassigned = desk.log(title="乙")
    classified = desk.log(title="丙", classified=True)
    desk.act("command", classified["id"], "assign", sections=["market"])
    everything = {assigned["id"], unassigned["id"], classified["id"]}

    listed = desk.get(username, URL)
    assert set(ids(listed)) == everything and listed.json()["count"] == 3
    for pk in everything:
        assert desk.get(username, f"{URL}{pk}/").status_code == 200


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_auditor_is_refused_every_action_with_403(desk, petition_case, action):
    pk = petition_case["id"]
    before = TimelineEvent.objects.filter(incident_id=pk).count()
    response = desk.as_("auditor").post(f"{URL}{pk}/{action}/", PAYLOADS.get(action, {}), format="json")
    assert response.status_code == 403, response.content
    assert set(response.json()) == {"detail"} and response.json()["detail"]
    assert TimelineEvent.objects.filter(incident_id=pk).count() == before


# --- level bodies (R4) ------------------------------------------------------------------
# The project's rule (incidents/permissions.py, commit c5c8684): a level's body sees the
# incidents whose response is at its level or was ever proposed at its level, so that it keeps
# the record of what it was asked to decide. It never sees anything before it is asked.

def test_the_level_iv_body_sees_an_incident_once_a_level_iv_response_is_proposed_and_not_before(
        desk, time_machine):
    time_machine.move_to(local(2026, 6, 8, 9, 0), tick=False)  # Monday, an ordinary working week
    incident = desk.log(title="某工地围挡倒塌视频传播")
    other = desk.log(title="无关事件")
    pk = incident["id"]
    desk.act("command", pk, "assign", sections=["petition"])
    desk.act("command", pk, "judge", veracity="true", severity="medium")
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 404
    assert ids(desk.get("onsite", URL)) == []
    assert desk.as_("onsite").post(f"{URL}{pk}/approve-response/", {}, format="json").status_code == 404

    desk.act("command", pk, "propose-response", level=4, reason="需现场工作组处置")
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 200
    assert ids(desk.get("onsite", URL)) == [pk]
    assert desk.get("onsite", f"{URL}{other['id']}/").status_code == 404

    desk.act("onsite", pk, "approve-response")
    assert desk.get("onsite", f"{URL}{pk}/").json()["response"]["state"] == "active"
    assert ids(desk.get("onsite", URL)) == [pk]

    for day in (8, 9, 10):
        time_machine.move_to(local(2026, 6, day, 18, 0), tick=False)
        desk.act("command", pk, "assess", date=f"2026-06-{day:02d}", stable=True)
    desk.act("command", pk, "propose-lift", reason="连续三个工作日平稳")
    assert desk.get("onsite", f"{URL}{pk}/").json()["response"]["state"] == "lift_proposed"
    lifted = desk.act("onsite", pk, "approve-lift")  # API.md: 200 with the incident
    assert lifted["response"]["state"] == "lifted" and lifted["state"] == "aftermath"

    # the body keeps the record of its decision, but has nothing left to decide
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 200
    assert desk.as_("onsite").post(f"{URL}{pk}/approve-lift/", {}, format="json").status_code == 409
    assert ids(desk.get("onsite", URL)) == [pk]


def test_a_body_never_sees_an_incident_proposed_only_at_another_level(desk):
    incident = desk.log(title="某景区游客冲突视频")
    pk = incident["id"]
    ready_to_respond(desk, pk)
    desk.act("command", pk, "propose-response", level=3, reason="Ⅲ级")
    assert desk.get("infohead", f"{URL}{pk}/").status_code == 200
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 404
    assert ids(desk.get("onsite", URL)) == []
    assert desk.as_("onsite").post(f"{URL}{pk}/approve-response/", {}, format="json").status_code == 404
    desk.act("infohead", pk, "approve-response")
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 404
    assert desk.get("infohead", f"{URL}{pk}/").json()["response"]["level"] == 3


def test_a_body_asked_about_a_proposal_keeps_seeing_it_after_rejection_or_supersession_but_cannot_decide_it(desk):
    incident = desk.log(title="某小区停水引发业主聚集")
    pk = incident["id"]
    ready_to_respond(desk, pk)
    desk.act("command", pk, "propose-response", level=4, reason="现场处置")
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 200
    rejected = desk.act("onsite", pk, "reject-response", reason="无需启动")
    assert rejected["response"] is None
    assert desk.get("onsite", f"{URL}{pk}/").status_code == 200

    desk.act("command", pk, "propose-response", level=4, reason="再次提议")
    # Issue 10: a second proposal while one is pending is refused; the command group withdraws it.
    desk.act("command", pk, "withdraw-proposal", reason="改为Ⅲ级")
    desk.act("command", pk, "propose-response", level=3, reason="改为Ⅲ级")
    refused = desk.as_("onsite").post(f"{URL}{pk}/approve-response/", {}, format="json")
    assert refused.status_code == 403 and set(refused.json()) == {"detail"}
    desk.act("infohead", pk, "approve-response")
    assert desk.get("infohead", f"{URL}{pk}/").json()["response"]["level"] == 3
    assert desk.get("onsite", f"{URL}{pk}/").json()["response"]["level"] == 3


# --- classified incidents (R54) ---------------------------------------------------------

@pytest.fixture
def classified_case(desk):
    # Logged by the command group: the duty officer is an outsider to it (a reporter would
    # read back what they logged).
    incident = desk.log(by="command2", title="涉军人员安置问题网上发酵", summary="退役人员安置诉求在微信群扩散。",
                        keywords="安置 退役", classified=True,
                        sources=[{"url": "https://mp.example.com/s/abc", "platform": "wechat"}])
    pk = incident["id"]
    desk.act("command", pk, "assign", sections=["petition"])
    desk.act("command", pk, "judge", veracity="true", severity="medium", analysis="诉求集中于安置待遇")
    desk.act("command", pk, "warn", **{**WARNING, "subject": "安置诉求群体"})
    return incident


@pytest.mark.parametrize("username", ["duty", "auditor"])
def test_classified_content_is_withheld_from_users_outside_its_sections_command_and_leadership(
        desk, classified_case, username):
    pk = classified_case["id"]
    body = desk.get(username, f"{URL}{pk}/").json()
    assert "涉密" in body["title"] and "安置" not in body["title"]
    assert body["content_withheld"] is True and body["classified"] is True
    assert body["summary"] == "" and body["sources"] == [] and body["keywords"] == ""
    assert body["warning"] == {"level": 3}
    assert body["timeline"] and all(e["detail"] == {} and e["reason"] == "" for e in body["timeline"])
    assert "安置" not in str(body)

    listed = next(row for row in desk.get(username, URL).json()["results"] if row["id"] == pk)
    assert "涉密" in listed["title"] and listed["summary"] == "" and listed["content_withheld"] is True
    assert "安置" not in str(listed)


@pytest.mark.parametrize("username", ["duty", "auditor"])
def test_searching_a_word_of_a_classified_title_does_not_find_it_for_outsiders(desk, classified_case, username):
    assert ids(desk.get(username, URL, q="安置")) == []
    assert ids(desk.get(username, URL, q="mp.example.com")) == []


@pytest.mark.parametrize("username", ["command", "command2", "leader", "petition"])
def test_command_leadership_and_the_assigned_section_read_classified_content(desk, classified_case, username):
    pk = classified_case["id"]
    body = desk.get(username, f"{URL}{pk}/").json()
    assert body["title"] == "涉军人员安置问题网上发酵"
    assert body["content_withheld"] is False
    assert body["summary"] == "退役人员安置诉求在微信群扩散。"
    assert body["sources"][0]["url"] == "https://mp.example.com/s/abc"
    assert body["warning"]["subject"] == "安置诉求群体"
    judged = next(e for e in body["timeline"] if e["verb"] == "judged")
    assert judged["detail"]["analysis"] == "诉求集中于安置待遇"
    assert ids(desk.get(username, URL, q="安置")) == [pk]


def test_a_classified_incident_stays_invisible_to_an_unassigned_section(desk, classified_case):
    pk = classified_case["id"]
    assert desk.get("market", f"{URL}{pk}/").status_code == 404
    assert ids(desk.get("market", URL)) == []


# --- deadlines ----------------------------------------------------------------------------

@pytest.fixture
def warned_case(desk):
    """Logged, assigned to 信访科, judged medium (feedback), warned at III (verification)."""
    incident = desk.log(title="物业费上涨引发业主不满")
    pk = incident["id"]
    desk.act("command", pk, "assign", sections=["petition"])
    desk.act("command", pk, "judge", veracity="true", severity="medium")
    desk.act("command", pk, "warn", **WARNING)
    return incident


def deadline_rows(desk, username, **params):
    response = desk.get(username, "/api/v1/deadlines/", **params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_deadline_list_shows_only_deadlines_of_incidents_the_user_can_see(desk, warned_case):
    pk = warned_case["id"]
    other = desk.log(title="公租房分配公示质疑")
    desk.act("command", other["id"], "assign", sections=["market"])

    assert {d["incident"] for d in deadline_rows(desk, "command")} == {pk, other["id"]}
    assert {d["incident"] for d in deadline_rows(desk, "petition")} == {pk}
    assert {d["incident"] for d in deadline_rows(desk, "market")} == {other["id"]}
    assert deadline_rows(desk, "onsite") == []
    assert deadline_rows(desk, "market", incident=pk) == []


def test_the_deadline_list_filters_by_owner_kind_and_state(desk, warned_case):
    pk = warned_case["id"]
    owned = deadline_rows(desk, "command", owner="petition")
    assert [(d["incident"], d["kind"], d["owner"], d["state"]) for d in owned] == [
        (pk, "verification", "petition", "open")]
    feedback = deadline_rows(desk, "command", kind="feedback")
    assert [(d["kind"], d["owner"], d["hard_due_at"] is not None) for d in feedback] == [
        ("feedback", "command", True)]
    assert {d["kind"] for d in deadline_rows(desk, "command", owner="command")} == {"feedback"}
    met = deadline_rows(desk, "command", state="met")
    assert [(d["kind"], d["owner"], d["met_by"]) for d in met] == [("quick", "info", "duty")]
    assert {d["kind"] for d in deadline_rows(desk, "command", state="open")} == {"verification", "feedback"}


def test_overdue_lists_pending_deadlines_past_their_due_time(desk, warned_case, time_machine):
    assert deadline_rows(desk, "command", overdue=1) == []
    now = dt.datetime.now(SHANGHAI)

    time_machine.move_to(now + dt.timedelta(hours=4), tick=False)  # verification was due in 3 h
    overdue = deadline_rows(desk, "command", overdue=1)
    assert [(d["kind"], d["owner"]) for d in overdue] == [("verification", "petition")]
    assert [d["kind"] for d in deadline_rows(desk, "petition", overdue=1)] == ["verification"]
    assert deadline_rows(desk, "market", overdue=1) == []
    assert len(deadline_rows(desk, "command")) == 3  # without the filter: everything

    time_machine.move_to(now + dt.timedelta(hours=13), tick=False)  # feedback was due in 12 h
    assert {d["kind"] for d in deadline_rows(desk, "command", overdue=1)} == {"verification", "feedback"}


@pytest.mark.django_db
def test_the_deciding_body_reads_a_classified_incident_it_must_approve(demo):

    api = Api(demo)
    iid = api.log("command2", classified=True, title="涉密测试事件")["id"]
    ready_to_respond(api, iid, sections=())
    api.act("command", iid, "propose-response", level=4, reason="需现场处置")
    detail = api.get("onsite", f"/api/v1/incidents/{iid}/").json()
    assert detail["content_withheld"] is False and detail["title"] == "涉密测试事件"
    assert api.get("duty", f"/api/v1/incidents/{iid}/").json()["content_withheld"] is True


def test_the_deciding_body_finds_the_classified_incident_it_must_approve_by_search(desk, classified_case):
    """R54 is one rule for opening and for searching: the level IV body, asked to approve a
    level IV response, reads the classified incident and finds it by a word of its content
    (the search once applied a copy of the rule that left the deciding body out)."""
    pk = classified_case["id"]
    assert ids(desk.get("onsite", URL, q="安置")) == []  # not asked yet: not even visible
    ready_to_respond(desk, pk, sections=())
    desk.act("command", pk, "propose-response", level=4, reason="需现场处置")
    assert desk.get("onsite", f"{URL}{pk}/").json()["content_withheld"] is False
    assert ids(desk.get("onsite", URL, q="安置")) == [pk]
    assert ids(desk.get("onsite", URL, q="mp.example.com")) == [pk]
    assert ids(desk.get("market", URL, q="安置")) == []
