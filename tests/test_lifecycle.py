"""The whole lifecycle of both seed plans through the API, as the demo users drive it, at
every response level (R1–R4, R10–R14, R20–R23, R30–R32, R50–R51)."""

import datetime as dt

import pytest

from early_warnings.models import NoticeReceipt, WarningNotice
from organization.models import Body
from responses.models import Statement, SupportRequest

from .api import deadlines, local, parse, ready_to_respond

APPROVER = {1: "leader", 2: "leader", 3: "infohead", 4: "onsite"}
STABLE_DAYS = {1: 7, 2: 5, 3: 3, 4: 3}
CADENCE_H = {1: 3, 2: 6, 3: 8, 4: 24}
# The first judgment and briefing strictly after activation at 09:00 on 11-02 (seed times).
FIRST_JUDGMENT = {1: (2, 14), 2: (2, 16), 3: (2, 16), 4: (3, 9)}  # level IV: tomorrow's 09:00
FIRST_BRIEFING = {1: (2, 15), 2: (2, 17), 3: (2, 17), 4: (2, 17)}


def nov_working_days(start_day: int, n: int) -> list[dt.date]:
    """November 2026 has no public holiday: its working days are Monday to Friday."""
    out, day = [], dt.date(2026, 11, start_day)
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_whole_lifecycle_at_each_level(level, api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)  # a Monday

    # R1, R10–R12: the duty officer logs it; logging meets the 1-hour quick report.
    inc = api.log(discovered_at=local(2026, 11, 2, 8, 40).isoformat())
    iid = inc["id"]
    assert inc["state"] == "reported" and inc["reported_by"] == "duty"
    (quick,) = deadlines(inc, "quick")
    assert (quick["owner"], quick["state"]) == ("info", "met")
    assert parse(quick["due_at"]) == local(2026, 11, 2, 9, 40)

    # R2, R3: the command group assigns sections and judges (R13, R14).
    inc = api.act("command", iid, "assign", sections=["petition", "market"])
    assert inc["state"] == "judging" and inc["sections"] == ["petition", "market"]
    inc = api.act("command", iid, "judge", veracity="true", severity="major", analysis="业主集中维权，可能扩散")
    assert (inc["veracity"], inc["severity"]) == ("true", "major")
    assert parse(deadlines(inc, "flash")[0]["due_at"]) == local(2026, 11, 2, 10, 0)
    (feedback,) = deadlines(inc, "feedback")
    assert parse(feedback["due_at"]) == local(2026, 11, 2, 21, 0)  # reported 09:00 + 12 h
    assert parse(feedback["hard_due_at"]) == local(2026, 11, 3, 9, 0)  # + 24 h

    # R20–R23: a warning notice with its seven fields; each section signs and verifies.
    inc = api.act("command", iid, "warn", level=level, subject="某小区业主", scope="全市房地产领域",
                  matters="交房延期引发集中投诉", measures="核实情况，统一口径", delivery="fax")
    assert inc["state"] == "warned"
    assert inc["warning"]["level"] == level and inc["warning"]["issuing_body"] == "舆情信息指挥小组"
    assert {r["section"]: r["signed_at"] for r in inc["warning"]["receipts"]} == {"petition": None, "market": None}
    verifications = deadlines(inc, "verification")
    assert sorted(d["owner"] for d in verifications) == ["market", "petition"]
    assert all(parse(d["due_at"]) == local(2026, 11, 2, 12, 0) for d in verifications)
    inc = api.act("petition", iid, "sign", notice=inc["warning"]["notice"], section="petition")
    signed = {r["section"]: r["signed_by"] for r in inc["warning"]["receipts"]}
    assert signed == {"petition": "petition", "market": None}
    inc = api.act("petition", iid, "report", kind="verification", section="petition", body="已核实，情况属实")
    assert deadlines(inc, "verification", "petition")[0]["state"] == "met"
    inc = api.act("command", iid, "report", kind="flash", body="舆情快报：……")
    assert deadlines(inc, "flash")[0]["state"] == "met"

    # R30, R4: proposed by the command group, approved by that level's body only.
    inc = api.act("command", iid, "propose-response", level=level, reason="传播范围扩大")
    assert inc["response"]["state"] == "proposed" and inc["response"]["proposed_level"] == level
    api.act("command", iid, "approve-response", expect=403)
    inc = api.act(APPROVER[level], iid, "approve-response")
    assert inc["state"] == "responding"
    assert (inc["response"]["state"], inc["response"]["level"]) == ("active", level)

    # R31: each section's status report at the level's cadence; briefings and judgments.
    for owner in ("petition", "market"):
        (status,) = deadlines(inc, "status", owner, "open")
        assert parse(status["due_at"]) == local(2026, 11, 2, 9, 0) + dt.timedelta(hours=CADENCE_H[level])
    assert parse(deadlines(inc, "judgment", state="open")[0]["due_at"]) == local(2026, 11, *FIRST_JUDGMENT[level], 0)
    assert parse(deadlines(inc, "briefing", state="open")[0]["due_at"]) == local(2026, 11, *FIRST_BRIEFING[level], 0)

    # A zero-report meets the open status deadline and restarts the section's clock.
    time_machine.move_to(local(2026, 11, 2, 10, 30), tick=False)
    inc = api.act("market", iid, "report", kind="status", section="market", zero=True)
    assert len(deadlines(inc, "status", "market", "met")) == 1
    (nxt,) = deadlines(inc, "status", "market", "open")
    assert parse(nxt["due_at"]) == local(2026, 11, 2, 10, 30) + dt.timedelta(hours=CADENCE_H[level])

    # R32: consecutive stable working days make the response lift-eligible.
    days = nov_working_days(2, STABLE_DAYS[level])
    for n, day in enumerate(days, start=1):
        time_machine.move_to(local(day.year, day.month, day.day, 18, 0), tick=False)
        if n == len(days):
            api.act("command", iid, "propose-lift", expect=409, reason="平稳")  # not yet
        inc = api.act("command", iid, "assess", date=day.isoformat(), stable=True, note="舆情平稳")
        assert inc["response"]["stable_working_days"] == n
        assert inc["response"]["lift_eligible"] is (n == STABLE_DAYS[level])
    inc = api.act("command", iid, "propose-lift", reason="连续平稳")
    assert inc["response"]["state"] == "lift_proposed"
    api.act("command", iid, "approve-lift", expect=403)
    inc = api.act(APPROVER[level], iid, "approve-lift")
    assert inc["state"] == "aftermath" and inc["response"]["state"] == "lifted"
    assert not deadlines(inc, "status", state="open") and not deadlines(inc, "briefing", state="open")
    assert {d["state"] for d in deadlines(inc, "status")} <= {"met", "cancelled"}
    (summary,) = deadlines(inc, "summary")
    fifth = nov_working_days(days[-1].day + 1, 5)[-1]
    assert parse(summary["due_at"]) == local(fifth.year, fifth.month, fifth.day, 18, 0)

    # R50, R51: the summary report is needed to close, and no loose end (issue 11).
    api.act("command", iid, "close", expect=409, lift_warning_reason="舆情平息")
    inc = api.act("command", iid, "report", kind="summary", characteristics="集中爆发，迅速回落",
                  measures_effect="及时回应，效果良好", experience="快速核实", problems="首报偏慢",
                  recommendations="加强监看")
    assert deadlines(inc, "summary")[0]["state"] == "met"
    api.act("command", iid, "close", expect=409, lift_warning_reason="舆情平息")  # consultation, feedback …
    inc = api.close(iid)
    assert inc["state"] == "closed"
    assert not [d for d in inc["deadlines"] if d["state"] == "open"]
    # the notices never signed (market's) are no longer asked for: the receipts' own flag
    receipts = NoticeReceipt.objects.filter(notice__incident_id=iid)
    assert receipts.filter(signed_at__isnull=True).exists()
    assert set(receipts.values_list("incident_closed", flat=True)) == {True}

    # R22, R32, R50: a recurrence re-activates the response at once and re-issues the warning.
    inc = api.act("command", iid, "reopen", reason="舆情反复，再度升温")
    assert inc["state"] == "responding"
    assert not receipts.filter(incident_closed=True).exists()
    assert (inc["response"]["state"], inc["response"]["level"]) == ("active", level)
    assert inc["response"]["stable_working_days"] == 0
    assert len(deadlines(inc, "status", state="open")) == 2

    verbs = [e["verb"] for e in inc["timeline"]]
    for verb in ["logged", "assigned", "permission_granted", "judged", "warning_issued", "notice_signed",
                 "report_submitted", "response_proposed", "response_approved", "stability_assessed",
                 "lift_proposed", "response_lifted", "closed", "reopened", "response_reactivated"]:
        assert verb in verbs, verb
    assert inc["timeline"][0]["actor"] == "duty"


@pytest.mark.django_db
def test_the_proposer_never_approves_even_as_a_body_member(api, demo):
    Body.objects.get(code="level2").members.add(demo["command"])
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=2)
    detail = api.act("command", iid, "approve-response", expect=403)["detail"]
    assert "不能审批自己提出的" in detail
    assert api.act("leader", iid, "approve-response")["response"]["state"] == "active"


@pytest.mark.django_db
def test_a_body_approves_only_its_own_level(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=3)
    # The leader sees everything but sits in the bodies of levels I and II only.
    assert "信息中心应急指挥工作组" in api.act("leader", iid, "approve-response", expect=403)["detail"]
    api.act("onsite", iid, "approve-response", expect=404)  # level IV's body does not even see it
    api.act("leader", iid, "reject-response", expect=403, reason="不同意")
    inc = api.act("infohead", iid, "reject-response", reason="暂不需要")
    assert inc["response"] is None  # never started; the proposal stays in the record
    assert inc["timeline"][-1]["verb"] == "response_rejected"


@pytest.mark.django_db
def test_a_level_change_reschedules_the_status_clock_at_once(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["petition"])
    api.act("command", iid, "propose-response", level=3)
    inc = api.act("infohead", iid, "approve-response")
    assert parse(deadlines(inc, "status", "petition", "open")[0]["due_at"]) == local(2026, 11, 2, 17, 0)
    time_machine.move_to(local(2026, 11, 2, 11, 0), tick=False)
    api.act("command", iid, "propose-response", level=1, reason="升级")
    inc = api.act("leader", iid, "approve-response")
    assert inc["response"]["level"] == 1
    (status,) = deadlines(inc, "status", "petition", "open")
    assert parse(status["due_at"]) == local(2026, 11, 2, 14, 0)  # 11:00 + 3 h (level I)
    assert parse(deadlines(inc, "judgment", state="open")[0]["due_at"]) == local(2026, 11, 2, 14, 0)
    # Lowering waits for level I's 7 stable working days and is decided by level I's body (R4).
    api.act("command", iid, "propose-response", expect=409, level=4, reason="降级")
    for day in nov_working_days(2, 7):
        time_machine.move_to(local(day.year, day.month, day.day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=day.isoformat(), stable=True)
    time_machine.move_to(local(2026, 11, 10, 19, 0), tick=False)
    api.act("command", iid, "propose-response", level=4, reason="降级")
    api.act("onsite", iid, "approve-response", expect=403)
    inc = api.act("leader", iid, "approve-response")
    assert inc["response"]["level"] == 4
    open_status = deadlines(inc, "status", "petition", "open")
    assert parse(open_status[0]["due_at"]) == local(2026, 11, 11, 19, 0)  # 19:00 + 24 h (level IV)


@pytest.mark.django_db
def test_a_minor_incident_is_watched_closed_without_handling_and_can_be_re_escalated(api):
    iid = api.log()["id"]
    inc = api.act("command", iid, "judge", veracity="unverified", severity="minor")
    assert inc["state"] == "watching"
    assert not deadlines(inc, "feedback") and not deadlines(inc, "flash")  # minor: no handling
    inc = api.act("command", iid, "judge", veracity="true", severity="medium")
    assert inc["state"] == "judging" and len(deadlines(inc, "feedback")) == 1
    inc = api.act("command", iid, "judge", veracity="true", severity="minor")
    api.act("command", iid, "close", expect=409)  # the written feedback the medium judgment asked for
    assert api.close(iid)["state"] == "closed"
    inc = api.act("command", iid, "reopen", reason="再次出现")
    assert inc["state"] == "judging"


@pytest.mark.django_db
def test_a_warning_is_adjusted_lifted_and_reissued_with_every_notice_kept(api):
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["market"])
    fields = {"subject": "房企", "scope": "全市", "matters": "价格舆情", "measures": "密切监看", "delivery": "document"}
    inc = api.act("command", iid, "warn", level=4, **fields)
    api.act("command", iid, "warn", level=4, expect=400, **fields)  # an adjustment changes the level
    inc = api.act("command", iid, "warn", level=3, **fields)
    assert inc["warning"]["level"] == 3 and inc["warning"]["kind"] == "adjust"
    assert len(deadlines(inc, "verification", "market")) == 2  # every notice is verified
    inc = api.act("command", iid, "lift-warning", reason="事件平息")
    assert inc["warning"] is None and inc["state"] == "aftermath"
    api.act("command", iid, "warn", level=3, expect=409, **fields)
    inc = api.act("command", iid, "reopen", reason="再度发酵")
    assert inc["state"] == "warned" and inc["warning"]["level"] == 3 and inc["warning"]["kind"] == "reissue"

    assert list(WarningNotice.objects.filter(incident_id=iid).values_list("kind", "level")) == [
        ("issue", 4), ("adjust", 3), ("lift", 3), ("reissue", 3)]


@pytest.mark.django_db
def test_expanded_response_publicity_and_statements(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["petition"])
    api.act("command", iid, "request-support", expect=409, content="请求支援")  # not responding yet
    api.act("command", iid, "propose-response", level=2)
    api.act("leader", iid, "approve-response")
    api.act("command", iid, "request-support", content="请求市委宣传部协调主流媒体")

    req = SupportRequest.objects.get(incident_id=iid)
    assert req.addressee == "市委宣传部"
    api.act("command", iid, "answer-support", request=req.pk, answer="同意，已协调")
    api.act("command", iid, "publicity", tier="positive_response", note="发布情况说明")
    api.act("command", iid, "publicity", tier="commentary_guidance")
    api.act("market", iid, "draft-statement", expect=404, section="market", kind="line", title="口径", body="...")
    api.act("petition", iid, "draft-statement", section="petition", kind="line", title="信息发布口径",
            body="我局高度重视……")
    st = Statement.objects.get(incident_id=iid)
    api.act("petition", iid, "release-statement", expect=403, statement=st.pk)
    api.act("command", iid, "release-statement", expect=409, statement=st.pk)  # approve first
    api.act("command", iid, "approve-statement", statement=st.pk)
    inc = api.act("command", iid, "release-statement", statement=st.pk)
    st.refresh_from_db()
    assert st.state == "released" and st.released_at is not None
    verbs = [e["verb"] for e in inc["timeline"]]
    assert verbs.count("publicity_started") == 2
    assert {"support_requested", "support_answered", "statement_drafted", "statement_approved",
            "statement_released"} <= set(verbs)


@pytest.mark.django_db
def test_a_section_assigned_under_an_active_warning_gets_its_notice_to_sign(api, web):
    """The current notice reaches a section assigned after it was issued: a receipt of its own,
    with the notice's issue time and incident, in the section's notices to sign."""
    from .test_workplace import warned

    inc = warned(api, sections=("petition",))
    api.act("command", inc["id"], "assign", sections=["market"])
    receipt = NoticeReceipt.objects.get(notice__incident_id=inc["id"], section__code="market")
    assert (receipt.issued_at, receipt.incident_id) == (receipt.notice.issued_at, inc["id"])
    receipts = web("market").get("/").context["section"]["receipts"]
    assert inc["id"] in [r["notice__incident_id"] for r in receipts]
