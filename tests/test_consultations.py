"""Issue 11: consultations (会商, R14, R35) and their work orders (工作指令), and closing with
no loose ends (R50, R51; API.md v1.1 ``convene``, ``record-consultation``, ``complete-order``,
``waive``): owed, reminded, escalated, completed, waived and counted."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deadlines.accountability import Scope, report
from deadlines.models import Deadline, Notification
from deadlines.sweep import process_deadlines
from early_warnings.models import NoticeReceipt, WarningNotice
from incidents.models import TimelineEvent

from .api import deadlines, local, parse
from .test_i18n import _chinese_left, _user_data


def major(api, time_machine, sections=("petition",)):
    """Logged at 09:00 on Monday 2026-11-02, assigned, judged major at 09:00."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log(discovered_at=local(2026, 11, 2, 8, 50).isoformat())["id"]
    api.act("command", iid, "assign", sections=list(sections))
    inc = api.act("command", iid, "judge", veracity="true", severity="major", analysis="业主集中维权")
    return iid, inc


def summary(api, iid, **parts):
    five = {"characteristics": "集中爆发", "measures_effect": "及时回应", "experience": "快速核实",
            "problems": "首报偏慢", "recommendations": "加强监看", **parts}
    return api.act("command", iid, "report", kind="summary", **five)


def verbs(iid):
    return list(TimelineEvent.objects.filter(incident_id=iid).order_by("seq").values_list("verb", flat=True))


# --- consultations --------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_major_judgment_owes_a_consultation_within_the_policy_hour_met_by_convening(api, time_machine):
    iid, inc = major(api, time_machine, sections=("petition", "market"))
    (owed,) = deadlines(inc, "consultation")
    assert (owed["owner"], owed["state"]) == ("command", "open")
    assert parse(owed["due_at"]) == local(2026, 11, 2, 10, 0)  # judged + 60 min (UnitPolicy)

    time_machine.move_to(local(2026, 11, 2, 9, 40), tick=False)
    api.act("petition", iid, "convene", expect=403, agenda="研究处置", participants=["petition"])
    inc = api.act("command", iid, "convene", agenda="研究交房延期处置", participants=["petition", "market"],
                  outside=["市网信办", "公安", "信访"])
    (owed,) = deadlines(inc, "consultation")
    assert (owed["state"], owed["met_by"]) == ("met", "command")
    (c,) = inc["consultations"]
    assert c["participants"] == ["petition", "market"] and c["sections"] == ["petition", "market"]
    assert c["outside"] == ["市网信办", "公安", "信访"] and c["convened_by"] == "command"
    assert c["minutes"] == "" and c["decisions"] == []
    told = set(Notification.objects.filter(incident_id=iid, event="consultation_convened")
               .values_list("recipient__username", flat=True))
    assert {"petition", "market"} <= told
    assert "consultation_convened" in verbs(iid)


@pytest.mark.django_db
def test_a_body_member_convenes_and_an_unknown_participant_is_a_field_error(api, time_machine):
    iid, _inc = major(api, time_machine, sections=("petition", "info"))
    body = api.client("leader").post(f"/api/v1/incidents/{iid}/convene/",
                                     {"agenda": "会商", "participants": ["nobody"]}, format="json")
    assert body.status_code == 400 and "participants" in body.json()
    body = api.client("leader").post(f"/api/v1/incidents/{iid}/convene/", {"agenda": "会商"}, format="json")
    assert body.status_code == 400 and "participants" in body.json()
    # A participant who cannot see the case (their section is not assigned) is named.
    body = api.client("leader").post(f"/api/v1/incidents/{iid}/convene/",
                                     {"agenda": "会商", "participants": ["market"]}, format="json")
    assert body.status_code == 400 and "房地产市场科 吴磊看不到此事件" in body.json()["participants"][0]
    inc = api.act("leader", iid, "convene", agenda="联席会商", outside=["市网信办"])
    assert inc["consultations"][0]["convened_by"] == "leader"
    # The convener records the minutes; another body member (who sees the case) may not.
    cid = inc["consultations"][0]["id"]
    api.act("infohead", iid, "record-consultation", expect=403, consultation=cid, minutes="纪要")
    inc = api.act("leader", iid, "record-consultation", consultation=cid, minutes="会商纪要：统一口径。")
    assert inc["consultations"][0]["recorded_by"] == "leader"
    detail = api.act("command", iid, "record-consultation", expect=409, consultation=cid, minutes="再记一次")
    assert "已于" in detail["detail"]


@pytest.mark.django_db
def test_a_work_order_is_owed_reminded_escalated_completed_and_counted(api, time_machine):
    iid, inc = major(api, time_machine, sections=("petition", "market"))
    cid = api.act("command", iid, "convene", agenda="研究处置", participants=["petition"])["consultations"][0]["id"]
    due = local(2026, 11, 2, 12, 0)
    inc = api.act("command", iid, "record-consultation", consultation=cid, minutes="会商纪要",
                  decisions=[{"text": "信访科当面答复业主诉求", "section": "petition", "due_at": due.isoformat()},
                             {"text": "房地产市场科约谈开发商", "section": "market",
                              "due_at": local(2026, 11, 2, 15, 0).isoformat()},
                             {"text": "持续关注舆情"}])
    (c,) = inc["consultations"]
    assert c["minutes"] == "会商纪要" and len(c["decisions"]) == 3
    first, second, plain = c["decisions"]
    assert plain["section"] is None and plain["deadline"] is None
    orders = {d["owner"]: d for d in deadlines(inc, "order")}
    assert set(orders) == {"petition", "market"} and parse(orders["petition"]["due_at"]) == due
    assert first["deadline"] == orders["petition"]["id"] and first["state"] == "open"
    assert Notification.objects.filter(incident_id=iid, event="order_issued", recipient__username="petition").exists()

    # Reminded at 11:30, urged at 12:00, supervised at 12:30 (deadlines/policy.py ladder).
    order = Deadline.objects.get(pk=first["deadline"])
    for when, step in ((local(2026, 11, 2, 11, 30), "remind"), (local(2026, 11, 2, 12, 0), "urge"),
                       (local(2026, 11, 2, 12, 30), "supervise")):
        time_machine.move_to(when, tick=False)
        process_deadlines()
        assert Notification.objects.filter(deadline=order, step=step).exists(), step
    order.refresh_from_db()
    assert order.state == "missed"

    # Only the ordered section completes it: late, by whom, and counted.
    api.act("market", iid, "complete-order", expect=403, order=first["id"], note="已答复")
    time_machine.move_to(local(2026, 11, 2, 13, 0), tick=False)
    inc = api.act("petition", iid, "complete-order", order=first["id"], note="已当面答复业主")
    done = inc["consultations"][0]["decisions"][0]
    assert (done["state"], done["completed_by"], done["note"]) == ("late", "petition", "已当面答复业主")
    api.act("petition", iid, "complete-order", expect=409, order=first["id"], note="再次")
    inc = api.act("market", iid, "complete-order", order=second["id"], note="已约谈")
    assert inc["consultations"][0]["decisions"][1]["state"] == "met"
    assert {"order_issued", "order_completed", "consultation_recorded"} <= set(verbs(iid))

    rows = {r.code: r for r in report(scope=Scope(everything=True)).sections}
    assert (rows["petition"].late, rows["market"].met) == (1, 1)


@pytest.mark.django_db
def test_a_work_order_names_an_assigned_section_and_a_future_due_time(api, time_machine):
    iid, _inc = major(api, time_machine)
    cid = api.act("command", iid, "convene", agenda="研究", participants=["petition"])["consultations"][0]["id"]
    later = local(2026, 11, 2, 18, 0).isoformat()
    for decision, words in (({"text": "约谈", "section": "market", "due_at": later}, "请先指派"),
                            ({"text": "答复", "section": "petition"}, "完成时限"),
                            ({"text": "答复", "section": "petition", "due_at": local(2026, 11, 2, 8, 0).isoformat()},
                             "晚于当前时间")):
        body = api.client("command").post(f"/api/v1/incidents/{iid}/record-consultation/",
                                          {"consultation": cid, "minutes": "纪要", "decisions": [decision]},
                                          format="json")
        assert body.status_code == 400 and words in body.json()["decisions"][0], body.json()
    body = api.client("command", "en").post(f"/api/v1/incidents/{iid}/record-consultation/",
                                            {"consultation": cid, "minutes": "m",
                                             "decisions": [{"text": "t", "section": "petition"}]}, format="json")
    assert "due" in body.json()["decisions"][0].lower()


# --- closing -------------------------------------------------------------------------------

def handled_to_aftermath(api, time_machine):
    """A major incident, warned and answered at level IV, its response lifted: in aftermath
    with the warning still in force and every obligation met but the consultation's."""
    iid, inc = major(api, time_machine)
    inc = api.act("command", iid, "warn", level=4, subject="业主", scope="全市", matters="交房延期",
                  measures="核实", delivery="phone")
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    api.act("command", iid, "report", kind="flash", body="舆情快报")
    api.act("command", iid, "report", kind="feedback", body="书面反馈")
    api.act("command", iid, "propose-response", level=4, reason="扩散")
    api.act("onsite", iid, "approve-response")
    for day in (3, 4, 5):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=f"2026-11-0{day}", stable=True)
    api.act("command", iid, "propose-lift", reason="平稳")
    inc = api.act("onsite", iid, "approve-lift")
    assert inc["state"] == "aftermath" and inc["warning"] is not None
    return iid


def close_refusal(api, iid, lang="zh-hans", **payload):
    return api.act("command", iid, "close", expect=409, lang=lang, **payload)["detail"]


@pytest.mark.django_db
def test_each_close_precondition_is_refused_by_name_in_chinese_and_english(api, time_machine):
    iid = handled_to_aftermath(api, time_machine)
    reason = {"lift_warning_reason": "舆情平息"}
    # the summary first: the case page says it before anyone tries (check_close)
    assert close_refusal(api, iid) == "办结前须提交舆情分析专题报告。"
    assert close_refusal(api, iid, **reason) == "办结前须提交舆情分析专题报告。"
    summary(api, iid, problems="", recommendations="")
    assert "预警仍在生效中" in close_refusal(api, iid)
    assert "warning is still in force" in close_refusal(api, iid, "en")
    detail = close_refusal(api, iid, **reason)
    assert "存在的问题" in detail and "对策建议" in detail and "舆情发展特点" not in detail
    assert "Recommendations" in close_refusal(api, iid, "en", **reason)
    summary(api, iid)
    detail = close_refusal(api, iid, **reason)
    assert "会商" in detail and "指挥小组" in detail
    assert "Consultation" in close_refusal(api, iid, "en", **reason)
    # A refused close changed nothing: the warning is still in force.
    assert api.get("command", f"/api/v1/incidents/{iid}/").json()["warning"] is not None


@pytest.mark.django_db
def test_closing_refuses_a_running_response_and_a_pending_proposal(api, time_machine):
    iid, _inc = major(api, time_machine)
    api.act("command", iid, "warn", level=4, subject="业主", scope="全市", matters="交房延期", measures="核实",
            delivery="phone")
    api.act("command", iid, "propose-response", level=4, reason="扩散")
    assert "待审批" in close_refusal(api, iid, lift_warning_reason="平息")
    assert "pending" in close_refusal(api, iid, "en", lift_warning_reason="平息").lower()
    api.act("onsite", iid, "approve-response")
    assert "应急响应仍在进行中" in close_refusal(api, iid)
    assert "response is still running" in close_refusal(api, iid, "en")


@pytest.mark.django_db
def test_waivers_one_by_one_then_the_close_lifts_the_warning_in_the_same_step(api, time_machine):
    iid = handled_to_aftermath(api, time_machine)
    summary(api, iid)
    (consultation,) = Deadline.objects.filter(incident_id=iid, kind="consultation")
    met = Deadline.objects.get(incident_id=iid, kind="flash")
    # Only the command group, only an open loose end, with a reason.
    api.act("petition", iid, "waive", expect=403, deadline=consultation.pk, reason="不需要")
    api.act("command", iid, "waive", expect=400, deadline=consultation.pk)
    assert "状态" in api.act("command", iid, "waive", expect=409, deadline=met.pk, reason="x")["detail"]
    inc = api.act("command", iid, "waive", deadline=consultation.pk, reason="已在响应期间开过联席会商")
    assert deadlines(inc, "consultation")[0]["state"] == "waived"
    inc = api.act("command", iid, "convene", agenda="善后会商", outside=["信访"])  # meets nothing waived
    assert deadlines(inc, "consultation")[0]["state"] == "waived"
    cid = inc["consultations"][0]["id"]

    inc = api.act("command", iid, "close", lift_warning_reason="舆情平息，解除预警")
    assert inc["state"] == "closed" and inc["warning"] is None
    consultation.refresh_from_db()
    assert (consultation.state, consultation.waived_by.username) == ("waived", "command")
    assert consultation.waive_reason == "已在响应期间开过联席会商"
    # Lifted at closing: recorded, but nothing to sign and no notice asking for it.
    lift = WarningNotice.objects.get(incident_id=iid, kind="lift")
    assert not NoticeReceipt.objects.filter(notice=lift).exists()
    assert not Notification.objects.filter(incident_id=iid, event="warning_lifted").exists()
    closed = TimelineEvent.objects.filter(incident_id=iid, verb="closed").get()
    assert closed.detail["warning_lifted"] == lift.pk and closed.detail["waived"] == [consultation.pk]
    steps = ("deadline_waived", "warning_lifted", "closed")
    assert [v for v in verbs(iid) if v in steps] == list(steps)
    api.act("command", iid, "lift-warning", expect=409, reason="再解除")
    api.act("command", iid, "record-consultation", expect=409, consultation=cid, minutes="纪要")
    api.act("command", iid, "convene", expect=409, agenda="会商", outside=["公安"])
    # Counted as waived, not owed-and-missed, not cancelled.
    command = {r.code: r for r in report(scope=Scope(everything=True)).sections}["command"]
    assert command.waived == 1
    body = api.get("command", "/api/v1/accountability/").json()
    assert [r for r in body["sections"] if r["code"] == "command"][0]["waived"] == 1


@pytest.mark.django_db
def test_waive_is_only_at_closing_and_written_feedback_is_never_cancelled_silently(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "judge", veracity="true", severity="medium")
    feedback = Deadline.objects.get(incident_id=iid, kind="feedback")
    assert "办结" in api.act("command", iid, "waive", expect=409, deadline=feedback.pk, reason="x")["detail"]
    api.act("command", iid, "judge", veracity="true", severity="minor")  # watching: may close
    detail = close_refusal(api, iid)
    assert "书面反馈" in detail
    assert "Written feedback" in close_refusal(api, iid, "en")
    api.act("command", iid, "waive", deadline=feedback.pk, reason="经研判为小微舆情，无需书面反馈")
    assert api.act("command", iid, "close")["state"] == "closed"
    feedback.refresh_from_db()
    assert feedback.state == "waived" and feedback.cancel_reason == ""


# --- the pages ------------------------------------------------------------------------------

def page(web, username, iid) -> str:
    """The case page with its consultations panel opened (the list is read when opened)."""
    response = web(username).get(f"/incidents/{iid}/")
    assert response.status_code == 200
    panel = web(username).get(f"/incidents/{iid}/panels/consultations/", HTTP_HX_REQUEST="true")
    return response.content.decode() + panel.content.decode()


@pytest.mark.django_db
def test_each_role_convenes_records_completes_waives_and_closes_through_the_page(api, web, time_machine):
    iid = handled_to_aftermath(api, time_machine)
    summary(api, iid)
    act = "/incidents/{}/act/{}/".format
    assert 'id="panel-consultations"' in page(web, "command", iid) and "召集会商" in page(web, "command", iid)
    assert "召集会商" not in page(web, "petition", iid)  # a section member does not convene

    response = web("command").post(act(iid, "convene"), {"_form": "convene", "agenda": "研究善后",
                                                         "participants": ["petition"], "outside": ["公安", "", "住建局"]})
    assert response.status_code == 302
    (c,) = api.get("command", f"/api/v1/incidents/{iid}/").json()["consultations"]
    assert c["participants"] == ["petition"] and c["outside"] == ["公安", "住建局"]
    text = page(web, "command", iid)
    assert "记录会商纪要和决定" in text and 'name="decisions-0-section"' in text

    # A row with a section but no due time comes back with its error; then the minutes stand.
    response = web("command").post(act(iid, "record-consultation"), {
        "_form": f"record_consultation_{c['id']}", "consultation": c["id"], "minutes": "纪要：做好善后",
        "decisions-0-text": "回访业主", "decisions-0-section": "petition", "decisions-0-due_at": "",
        "decisions-1-text": "", "decisions-2-text": ""}, HTTP_HX_REQUEST="true")
    assert "工作指令须写明完成时限" in response.content.decode()
    response = web("command").post(act(iid, "record-consultation"), {
        "_form": f"record_consultation_{c['id']}", "consultation": c["id"], "minutes": "纪要：做好善后",
        "decisions-0-text": "回访业主", "decisions-0-section": "petition", "decisions-0-due_at": "2026-11-06T12:00",
        "decisions-1-text": "持续关注", "decisions-2-text": ""})
    assert response.status_code == 302
    (order, plain) = api.get("command", f"/api/v1/incidents/{iid}/").json()["consultations"][0]["decisions"]
    assert parse(order["due_at"]) == local(2026, 11, 6, 12, 0) and plain["section"] is None

    text = page(web, "petition", iid)
    assert f'value="complete_order_{order["id"]}"' in text
    assert web("petition").post(act(iid, "complete-order"), {"order": order["id"], "note": "已回访"}).status_code == 302

    # No loose end is left (the consultation, convened late, is met late); the command group
    # lifts the warning in the closing step, and the closed case offers no lifting.
    text = page(web, "command", iid)
    assert 'name="lift_warning_reason"' in text and 'id="loose-ends"' not in text
    response = web("command").post(act(iid, "close"), {"_form": "close", "lift_warning_reason": "舆情平息"})
    assert response.status_code == 302
    text = page(web, "command", iid)
    assert "解除预警</button>" not in text and act(iid, "lift-warning") not in text and act(iid, "reopen") in text


@pytest.mark.django_db
def test_the_page_lists_the_loose_ends_and_waives_them_one_by_one(api, web, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "judge", veracity="true", severity="major")
    api.act("command", iid, "judge", veracity="true", severity="minor")  # watching
    text = page(web, "command", iid)
    ends = re.findall(r'class="[^"]*loose-end" data-kind="(\w+)" id="loose-end-(\d+)"', text)
    assert sorted(kind for kind, _pk in ends) == ["consultation", "feedback", "flash"]
    for _kind, pk in ends:
        response = web("command").post(f"/incidents/{iid}/act/waive/", {"_form": f"waive_{pk}", "deadline": pk,
                                                                         "reason": "研判为小微舆情"})
        assert response.status_code == 302
    assert 'id="loose-ends"' not in page(web, "command", iid)
    assert web("command").post(f"/incidents/{iid}/act/close/", {"_form": "close"}).status_code == 302
    states = set(Deadline.objects.filter(incident_id=iid, kind__in=["flash", "feedback", "consultation"])
                 .values_list("state", flat=True))
    assert states == {"waived"}


@pytest.mark.django_db
def test_consultations_cost_the_same_queries_on_the_case_page_and_in_the_api_whatever_their_number(
        api, web, time_machine):
    iid, _inc = major(api, time_machine, sections=("petition", "market"))
    later = local(2026, 11, 3, 12, 0).isoformat()

    def consult(n_decisions):
        cid = api.act("command", iid, "convene", agenda="研究", participants=["petition", "market"],
                      outside=["公安"])["consultations"][-1]["id"]
        api.act("command", iid, "record-consultation", consultation=cid, minutes="纪要", decisions=[
            {"text": f"决定{n}", "section": ("petition", "market", None)[n % 3], "due_at": later}
            for n in range(n_decisions)])

    def costs():
        out = []
        for username in ("command", "petition"):
            for get in (lambda u: web(u).get(f"/incidents/{iid}/"),
                        lambda u: api.client(u).get(f"/api/v1/incidents/{iid}/")):
                with CaptureQueriesContext(connection) as queries:
                    assert get(username).status_code == 200
                out.append(len(queries))
        return out

    consult(1)
    costs()  # warm: the sessions' first requests read what later ones have cached
    few = costs()
    for _n in range(3):
        consult(3)
    assert len(api.get("command", f"/api/v1/incidents/{iid}/").json()["consultations"]) == 4
    assert costs() == few


@pytest.mark.django_db
def test_an_open_work_order_holds_the_close_until_done_or_waived(api, time_machine):
    iid, _inc = major(api, time_machine)
    api.act("command", iid, "report", kind="flash", body="快报")
    api.act("command", iid, "report", kind="feedback", body="反馈")
    cid = api.act("command", iid, "convene", agenda="研究", participants=["petition"])["consultations"][0]["id"]
    inc = api.act("command", iid, "record-consultation", consultation=cid, minutes="纪要", decisions=[
        {"text": "回访业主", "section": "petition", "due_at": local(2026, 11, 2, 18, 0).isoformat()}])
    order = inc["consultations"][0]["decisions"][0]
    api.act("command", iid, "judge", veracity="true", severity="minor")  # watching: may close
    detail = close_refusal(api, iid)
    assert "工作指令（信访科" in detail
    assert "Work order (" in close_refusal(api, iid, "en")
    api.act("command", iid, "waive", deadline=order["deadline"], reason="事态平息，无需回访")
    assert Notification.objects.filter(incident_id=iid, event="deadline_waived", recipient__username="petition").exists()
    assert "豁免" in api.act("petition", iid, "complete-order", expect=409, order=order["id"], note="晚了")["detail"]
    inc = api.act("command", iid, "close")
    assert inc["state"] == "closed" and inc["consultations"][0]["decisions"][0]["state"] == "waived"
    rows = {r.code: r for r in report(scope=Scope(everything=True)).sections}
    assert (rows["petition"].waived, rows["petition"].owed) == (1, 1)


@pytest.mark.django_db
def test_the_consultations_panel_and_the_close_speak_english(api, demo, time_machine):
    iid = handled_to_aftermath(api, time_machine)
    summary(api, iid)  # the close card (with the warning's lift reason) once the summary is in
    cid = api.act("command", iid, "convene", agenda="研究善后", participants=["petition"],
                  outside=["公安"])["consultations"][0]["id"]
    api.act("command", iid, "record-consultation", consultation=cid, minutes="纪要", decisions=[
        {"text": "回访业主", "section": "petition", "due_at": local(2026, 11, 9, 12, 0).isoformat()}, {"text": "关注"}])
    order = api.get("command", f"/api/v1/incidents/{iid}/").json()["consultations"][0]["decisions"][0]
    api.act("petition", iid, "complete-order", order=order["id"], note="已回访")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    client.force_login(demo["command"])
    html = client.get(f"/incidents/{iid}/").content.decode()
    html += client.get(f"/incidents/{iid}/panels/consultations/", HTTP_HX_REQUEST="true").content.decode()
    for label in ["Consultations and work orders", "Attending: ", "Outside departments: ", "Minutes: ",
                  "Work order", "Completed (", "Reason for lifting the warning", "Convene a consultation"]:
        assert label in html, label
    assert _chinese_left(html, ["公安", *_user_data()]) == []
