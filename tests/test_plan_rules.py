"""Issue 11, to the letter of the plans: who decides a start, a raise, a lowering and a lift
(R4), the stable days a lowering waits for (R32), what a proposal needs first (a judgment; a
section for levels I–III), four eyes on statements, 批示意见, a section's own judgment (R13),
the auditor's read of closed cases (R6, R54), the discovery-time horizon (R12) and the
verification deadlines that lapse with the warning (R23)."""

import datetime as dt
import re

import pytest
from django.test import Client

from deadlines.models import Deadline
from incidents.models import ClassifiedAccess, Judgment
from organization import services
from organization.models import ROMAN, UnitPolicy
from organization.selectors import deciding_body
from responses.models import Instruction, ResponseProposal, Statement

from .api import deadlines, local, ready_to_respond

APPROVER = {1: "leader", 2: "leader", 3: "infohead", 4: "onsite"}
STABLE_DAYS = {1: 7, 2: 5, 3: 3, 4: 3}
BODY_NAME = {1: "局应急指挥工作组", 2: "局应急指挥小组", 3: "信息中心应急指挥工作组", 4: "现场工作组"}


def working_days(n, start=dt.date(2026, 11, 2)):
    """November 2026 has no public holiday: Monday to Friday."""
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def responding(api, time_machine, level, sections=("market",)):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid, sections)
    api.act("command", iid, "propose-response", level=level, reason="传播扩大")
    api.act(APPROVER[level], iid, "approve-response")
    return iid


def stable_for(api, time_machine, iid, n):
    for day in working_days(n):
        time_machine.move_to(local(day.year, day.month, day.day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=day.isoformat(), stable=True)


def other_body(demo, level):
    """command2 (command group: sees every incident) made a member of ``level``'s body only,
    to show that body is not the one that decides."""
    services.body_add_member(body=deciding_body(level), user=demo["command2"])
    return "command2"


# --- R4: the deciding body, at each level --------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("level,lower_to", [(1, 2), (2, 4), (3, 4), (4, None)])
def test_start_lift_and_lower_are_decided_by_the_current_levels_body(level, lower_to, api, demo, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    outsider = other_body(demo, lower_to or 3)
    api.act("command", iid, "propose-response", level=level, reason="传播扩大")
    assert ResponseProposal.objects.get(incident_id=iid).deciding_level == level
    # start: the proposed level's body only
    refused = api.act(outsider, iid, "approve-response", expect=403)["detail"]
    assert BODY_NAME[level] in refused
    en = api.act(outsider, iid, "approve-response", expect=403, lang="en")["detail"]
    assert en.startswith("Only members of") and BODY_NAME[level] in en
    api.act(APPROVER[level], iid, "approve-response", comment="同意启动，抓紧核实")
    days = STABLE_DAYS[level]

    if lower_to:
        # a lowering before the current level's stable days is refused, saying have and need
        detail = api.act("command", iid, "propose-response", expect=409, level=lower_to)["detail"]
        assert detail == f"连续平稳工作日为 0 天，{ROMAN[level]}级响应需满 {days} 天才能调低响应级别。"
        en = api.act("command", iid, "propose-response", expect=409, lang="en", level=lower_to)["detail"]
        assert en == f"{days} consecutive stable working days are needed to lower a level {ROMAN[level]} response; there are 0."

    stable_for(api, time_machine, iid, days)
    # lift: the current level's body only; its rejection carries the 批示意见
    api.act("command", iid, "propose-lift", reason="连续平稳")
    assert BODY_NAME[level] in api.act(outsider, iid, "approve-lift", expect=403)["detail"]
    api.act(APPROVER[level], iid, "reject-lift", expect=400)  # a rejection needs its 批示意见
    inc = api.act(APPROVER[level], iid, "reject-lift", reason="仍需观察两天")
    assert [(i["subject"], i["decision"], i["text"]) for i in inc["instructions"]] == [
        ("proposal", "approved", "同意启动，抓紧核实"), ("lift", "rejected", "仍需观察两天")]
    assert inc["timeline"][-1]["verb"] == "lift_rejected" and inc["timeline"][-1]["reason"] == "仍需观察两天"

    if lower_to:
        # lower: decided by the current (higher) level's body, not by the new level's
        api.act("command", iid, "propose-response", level=lower_to, reason="平稳，降级")
        assert ResponseProposal.objects.filter(incident_id=iid, level=lower_to).get().deciding_level == level
        assert BODY_NAME[level] in api.act(outsider, iid, "approve-response", expect=403)["detail"]
        inc = api.act(APPROVER[level], iid, "approve-response")
        assert inc["response"]["level"] == lower_to
    else:
        api.act("command", iid, "propose-lift", reason="连续平稳")
        inc = api.act(APPROVER[level], iid, "approve-lift", comment="同意解除，做好善后")
        assert inc["response"]["state"] == "lifted"
        assert inc["timeline"][-1]["detail"]["comment"] == "同意解除，做好善后"
        assert Instruction.objects.filter(incident_id=iid, subject="lift", decision="approved").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("start,to", [(4, 3), (3, 1), (2, 1)])
def test_a_raise_is_decided_by_the_new_levels_body(start, to, api, time_machine):
    iid = responding(api, time_machine, start)
    api.act("command", iid, "propose-response", level=to, reason="升级")
    assert ResponseProposal.objects.get(incident_id=iid, level=to).deciding_level == to
    if APPROVER[start] != APPROVER[to]:  # the current, lower level's body does not decide a raise
        assert BODY_NAME[to] in api.act(APPROVER[start], iid, "approve-response", expect=403)["detail"]
    assert api.act(APPROVER[to], iid, "approve-response")["response"]["level"] == to  # no stable days needed


@pytest.mark.django_db
def test_the_approvals_page_lists_a_lowering_for_the_current_levels_body(api, demo, time_machine):
    iid = responding(api, time_machine, 3)
    stable_for(api, time_machine, iid, 3)
    api.act("command", iid, "propose-response", level=4, reason="降级")
    infohead, onsite = Client(), Client()
    infohead.force_login(demo["infohead"])
    onsite.force_login(demo["onsite"])
    assert f"/incidents/{iid}/" in infohead.get("/approvals/").content.decode()
    assert f"/incidents/{iid}/" not in onsite.get("/approvals/").content.decode()


# --- what a proposal needs first -----------------------------------------------------------

@pytest.mark.django_db
def test_no_proposal_before_a_judgment(api):
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["market"])
    assert api.act("command", iid, "propose-response", expect=409, level=4)["detail"] == (
        "该事件尚未研判：请先由舆情信息指挥小组研判，再提议应急响应。")
    assert api.act("command", iid, "propose-response", expect=409, lang="en", level=4)["detail"] == (
        "The incident has not been judged: the command group judges it before a response is proposed.")


@pytest.mark.django_db
def test_levels_i_to_iii_need_a_responsible_section_level_iv_does_not(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid, sections=())
    for level, roman in ((1, "Ⅰ"), (2, "Ⅱ"), (3, "Ⅲ")):
        assert api.act("command", iid, "propose-response", expect=409, level=level)["detail"] == (
            f"{roman}级应急响应须先指派责任股室（由其按时专报），请先指派股室。")
    assert api.act("command", iid, "propose-response", expect=409, lang="en", level=3)["detail"] == (
        "A level Ⅲ response needs a responsible section (it sends the status reports): assign one first.")
    api.act("command", iid, "propose-response", level=4)
    assert api.act("onsite", iid, "approve-response")["response"]["state"] == "active"


@pytest.mark.django_db
def test_a_level_iii_approval_is_refused_once_its_only_section_is_unassigned(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["market"])
    api.act("command", iid, "propose-response", level=3)
    api.act("command", iid, "unassign", sections=["market"])
    assert "须先指派责任股室" in api.act("infohead", iid, "approve-response", expect=409)["detail"]
    api.act("infohead", iid, "reject-response", reason="先指派股室")  # rejecting stays possible


# --- four eyes on statements ------------------------------------------------------------------

@pytest.mark.django_db
def test_a_command_member_of_the_drafting_section_does_not_approve_its_statement(api):
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["info"])
    api.act("duty", iid, "draft-statement", section="info", kind="line", title="回应口径", body="我局高度重视……")
    st = Statement.objects.get(incident_id=iid)
    # command sits in the command group and in 信息中心, the drafting section
    assert api.act("command", iid, "approve-statement", expect=403, statement=st.pk)["detail"] == (
        "您是起草股室“信息中心”的成员，不能审定本股室的稿件，请由指挥小组其他成员审定。")
    assert api.act("command", iid, "approve-statement", expect=403, lang="en", statement=st.pk)["detail"] == (
        "You belong to 信息中心, the section that drafted it: another member of the command group approves it.")
    inc = api.act("command2", iid, "approve-statement", statement=st.pk)
    assert inc["statements"] == [{"id": st.pk, "kind": "line", "section": "info", "title": "回应口径",
                                  "state": "approved", "drafted_by": "duty", "decided_by": "command2"}]


# --- R13: a section's own judgment ----------------------------------------------------------

@pytest.mark.django_db
def test_a_section_records_its_own_judgment_and_the_command_groups_still_sets_severity(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["petition"], severity="medium")
    api.act("market", iid, "section-judgment", expect=404, section="market", veracity="false", analysis="…")
    refused = api.act("command2", iid, "section-judgment", expect=403, section="petition", veracity="false",
                      analysis="…")["detail"]
    assert refused == "只有此事件责任股室的成员可以提交股室研判意见。"
    assert api.act("command2", iid, "section-judgment", expect=403, lang="en", section="petition", veracity="false",
                   analysis="…")["detail"] == "Only members of this incident's responsible sections can record a section judgment."
    api.act("petition", iid, "section-judgment", expect=400, section="petition", veracity="true",
            analysis="已核实", participants=["nobody"])
    inc = api.act("petition", iid, "section-judgment", section="petition", veracity="false",
                  analysis="经核实，帖文所述与事实不符", participants=["petition", "command"])
    assert (inc["severity"], inc["veracity"]) == ("medium", "true")  # still the command group's judgment
    own = [j for j in inc["judgments"] if j["section"] == "petition"]
    assert own == [{**own[0], "mode": "section", "veracity": "false", "severity": None,
                    "participants": ["petition", "command"], "judged_by": "petition"}]
    assert inc["timeline"][-1]["verb"] == "section_judged"
    # a joint judgment of the command group lists its participants too
    inc = api.act("command", iid, "judge", veracity="true", severity="major", mode="joint",
                  participants=["command", "petition"])
    assert inc["judgments"][-1]["participants"] == ["command", "petition"] and inc["severity"] == "major"
    assert Judgment.objects.filter(incident_id=iid, section__isnull=True).count() == 2


@pytest.mark.django_db
def test_the_case_page_shows_the_section_judgment_and_the_instructions(api, demo, time_machine):
    iid = responding(api, time_machine, 3, sections=("petition",))
    web = Client()
    web.force_login(demo["petition"])
    assert "act/section-judgment/" in web.get(f"/incidents/{iid}/").content.decode()  # the form, for its members
    web.post(f"/incidents/{iid}/act/section-judgment/", {
        "section": "petition", "veracity": "true", "analysis": "属实，正在处置", "participants": ["petition", "market"]})
    (judgment,) = Judgment.objects.filter(incident_id=iid, section__code="petition")
    assert judgment.participants == ["petition", "market"] and judgment.mode == "section"
    text = web.get(f"/incidents/{iid}/").content.decode()
    assert 'id="section-judgments"' in text and "属实，正在处置" in text and "petition、market" in text
    web.force_login(demo["command"])
    text = web.get(f"/incidents/{iid}/").content.decode()
    assert 'id="instructions"' not in text  # approved without a 批示意见
    page = web.post(f"/incidents/{iid}/act/section-judgment/", {"section": "petition", "veracity": "true",
                                                                   "analysis": "x"})
    assert page.status_code in (200, 302) and Judgment.objects.filter(incident_id=iid, section__isnull=False).count() == 1


# --- R6, R54: the auditor reads closed cases, logged ----------------------------------------

@pytest.mark.django_db
def test_the_auditor_reads_a_closed_classified_case_and_every_read_is_logged(api):
    iid = api.log("command2", classified=True, title="涉密：某项目拆迁安置")["id"]
    api.act("command", iid, "judge", veracity="true", severity="minor")
    before = api.get("auditor", f"/api/v1/incidents/{iid}/").json()
    assert before["content_withheld"] is True and before["title"] == f"【涉密】舆情事件 #{iid}"
    api.act("command", iid, "close")
    after = api.get("auditor", f"/api/v1/incidents/{iid}/").json()
    assert after["content_withheld"] is False and after["title"] == "涉密：某项目拆迁安置"
    assert after["timeline"][0]["detail"]  # the whole record, details included
    assert api.get("auditor", f"/api/v1/incidents/{iid}/timeline/").status_code == 200
    log = list(ClassifiedAccess.objects.filter(incident_id=iid, user__username="auditor")
               .order_by("id").values_list("via", "content_shown"))
    assert log == [("api", False), ("api", True), ("timeline", True)]
    api.act("auditor", iid, "reopen", expect=403, reason="x")  # reading only


# --- R12: the discovery time -------------------------------------------------------------------

@pytest.mark.django_db
def test_the_discovery_time_is_bounded_by_the_units_horizon(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    client = api.client("duty")
    payload = {"title": "标题", "summary": "摘要", "channel": "monitoring"}
    old = client.post("/api/v1/incidents/", {**payload, "discovered_at": local(2026, 10, 2, 8, 0).isoformat()},
                      format="json")
    assert old.status_code == 400
    assert old.json() == {"discovered_at": ["发现时间不能早于登记前 30 天（2026-10-03 09:00）；请核对后填写。"]}
    en = api.client("duty", "en").post("/api/v1/incidents/", {**payload, "discovered_at": "1900-01-01T00:00:00+08:00"},
                                      format="json")
    assert en.status_code == 400 and list(en.json()) == ["discovered_at"]
    future = client.post("/api/v1/incidents/", {**payload, "discovered_at": local(2026, 11, 2, 10, 0).isoformat()},
                         format="json")
    assert future.json() == {"discovered_at": ["发现时间不能晚于当前时间。"]}
    en = api.client("duty", "en").post("/api/v1/incidents/", {
        **payload, "discovered_at": local(2026, 10, 2, 8, 0).isoformat()}, format="json")
    assert en.json() == {"discovered_at": [
        "The discovery time cannot be more than 30 days before logging (2026-10-03 09:00); please check it."]}
    # the horizon is the unit's policy
    policy = UnitPolicy.current()
    policy.discovery_horizon_days = 60
    policy.save()
    inc = api.log(discovered_at=local(2026, 10, 2, 8, 0).isoformat())
    assert deadlines(inc, "quick")[0]["state"] == "late"


@pytest.mark.django_db
def test_the_logging_message_says_whether_the_quick_report_was_met(demo, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    web = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    web.force_login(demo["duty"])
    form = {"title": "某小区业主反映交房延期", "summary": "业主发帖", "channel": "monitoring",
            "sources-0-url": "https://tieba.example.com/p/1", "sources-0-platform": "forum"}
    met = web.post("/incidents/new/", {**form, "discovered_at": "2026-11-02T08:40"}, follow=True)
    assert "1小时快报时限已满足" in met.content.decode()
    late = web.post("/incidents/new/", {**form, "discovered_at": "2026-11-02T06:30"}, follow=True).content.decode()
    assert re.search(r"已超过快报时限（迟报 90 分钟），已记为迟报", late)
    assert "1小时快报时限已满足" not in late


# --- R23: lapsed obligations -----------------------------------------------------------------

@pytest.mark.django_db
def test_lifting_the_warning_cancels_the_open_verifications_and_keeps_what_is_still_owed(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["petition", "market"], severity="medium")
    inc = api.act("command", iid, "warn", level=3, subject="某小区业主", scope="全市", matters="交房延期",
                  measures="核实情况", delivery="fax")
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    inc = api.act("command", iid, "lift-warning", reason="舆情平息")
    (report,) = inc["reports"]  # API.md v1.1 "More of the incident"
    assert report == {"id": report["id"], "kind": "verification", "section": "petition", "zero": False,
                      "submitted_at": report["submitted_at"], "submitted_by": "petition"}
    states = {d["owner"]: d["state"] for d in deadlines(inc, "verification")}
    assert states == {"petition": "met", "market": "cancelled"}
    market = Deadline.objects.get(incident_id=iid, kind="verification", owner_section__code="market")
    assert market.cancel_reason == "warning lifted" and market.next_action_at is None
    lapsed = [e for e in inc["timeline"] if e["verb"] == "obligations_lapsed"]
    assert lapsed and lapsed[0]["detail"]["deadlines"] == [market.pk]
    assert deadlines(inc, "feedback")[0]["state"] == "open"  # the plan still requires the feedback


@pytest.mark.django_db
def test_a_lowering_whose_stable_days_broke_meanwhile_is_not_approved(api, demo, time_machine):
    iid = responding(api, time_machine, 3)
    stable_for(api, time_machine, iid, 3)
    api.act("command", iid, "propose-response", level=4, reason="平稳，降级")
    time_machine.move_to(local(2026, 11, 5, 18, 0), tick=False)
    api.act("command", iid, "assess", date="2026-11-05", stable=False, note="再度升温")
    detail = api.act("infohead", iid, "approve-response", expect=409)["detail"]
    assert detail == "连续平稳工作日为 0 天，Ⅲ级响应需满 3 天才能调低响应级别。"
    web = Client()
    web.force_login(demo["infohead"])
    text = web.get(f"/incidents/{iid}/").content.decode()
    assert 'id="approve-refusal"' in text and "才能调低响应级别" in text
    assert "act/reject-response/" in text  # the body can still reject it, with its 批示意见
    inc = api.act("infohead", iid, "reject-response", reason="舆情反复，维持Ⅲ级")
    assert inc["response"]["level"] == 3 and inc["instructions"][-1]["text"] == "舆情反复，维持Ⅲ级"
