"""The three user groups do their whole job in real pages, in headless Chromium (issue 5):
the duty officer logs, the command group judges, assigns and warns, the section signs and
reports, the leader approves a level II response, the 6-hour status clock and its zero-report,
the stable working days and the lift — and another section's incident is a 404.

Time is moved to Monday 2026-11-23 (time-machine patches the live server's thread too); the
browser's own clock only drives the countdown text."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from deadlines.models import Deadline
from deadlines.sweep import process_deadlines
from incidents.models import Incident

from .api import Api, local
from .browser import screenshot
from .helpers import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_action(page, summary_text):
    page.locator("summary", has_text=summary_text).first.click()


def test_the_plan_end_to_end_in_the_browser(demo, open_as, live_server, time_machine):
    time_machine.move_to(local(2026, 11, 23, 9, 0), tick=True)

    # --- 值班员: 登记舆情 -------------------------------------------------------------------
    duty = open_as("duty")
    duty.get_by_role("link", name="登记舆情").first.click()
    expect(duty.locator("#quick-clock")).to_be_visible()
    duty.get_by_label("摘要").fill("多名业主在贴吧发帖称小区交房延期，帖文被大量转发。")
    duty.get_by_role("button", name="登记并报送指挥小组").first.click()
    # Bad input keeps what was typed and says what is wrong, in Chinese.
    expect(duty.locator(".invalid-feedback").first).to_be_visible()
    expect(duty.get_by_label("摘要")).to_have_value("多名业主在贴吧发帖称小区交房延期，帖文被大量转发。")
    duty.get_by_label("标题").first.fill("某小区业主集中反映交房延期")
    duty.locator("#id_sources-0-url").fill("https://tieba.example.com/p/8848")
    duty.locator("#id_sources-0-platform").select_option("forum")
    screenshot(duty, "register")
    duty.get_by_role("button", name="登记并报送指挥小组").first.click()
    duty.wait_for_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get(title="某小区业主集中反映交房延期")
    expect(duty.locator("#incident-body")).to_contain_text("已登记")
    assert Deadline.objects.get(incident=incident, kind="quick").state == "met"
    url = f"{live_server.url}/incidents/{incident.pk}/"

    # --- 指挥小组: 研判、指派、预警 ----------------------------------------------------------
    command = open_as("command")
    command.goto(url)
    open_action(command, "研判")
    command.get_by_label("真消息").check()
    command.get_by_label("重大舆情").check()
    command.get_by_label(re.compile("研判分析")).fill("业主维权诉求集中，存在扩大炒作风险。")
    screenshot(command, "judge")
    command.get_by_role("button", name="提交研判").click()
    expect(command.locator("summary", has_text="重新研判")).to_be_visible()  # the swap has landed
    open_action(command, "指派责任股室")
    command.locator("#panel-sections").get_by_label("信访科").check()
    command.get_by_role("button", name="指派", exact=True).click()
    expect(command.locator("#panel-sections").get_by_role("button", name="撤销")).to_be_visible()
    open_action(command, "发布预警")
    form = command.locator("#panel-warning form").first
    form.get_by_label("预警级别").select_option("2")
    form.get_by_label("舆情对象").fill("某小区业主")
    form.get_by_label("可能影响范围").fill("全市房地产领域")
    form.get_by_label("预警事项").fill("交房延期引发集中投诉")
    form.get_by_label("应采取的措施").fill("核实情况，统一口径，做好解释")
    form.get_by_label("发布方式").select_option("fax")
    form.get_by_role("button").last.click()
    expect(command.locator("#incident-body")).to_contain_text("已预警")
    incident.refresh_from_db()
    assert incident.state == "warned" and incident.warning.level == 2

    # --- 股室: 我的待办、签收、核实 ----------------------------------------------------------
    petition = open_as("petition")
    petition.get_by_role("link", name=re.compile("我的待办")).first.click()
    expect(petition.locator("#todo")).to_contain_text("预警核实")
    screenshot(petition, "todo")
    petition.goto(url)
    petition.get_by_role("button", name=re.compile("签收")).first.click()
    expect(petition.locator("#panel-warning")).to_contain_text("已签收")
    open_action(petition, "核实报告")
    petition.locator("#panel-reports").get_by_label("核实情况").fill("经核实，情况属实，已与开发商对接。")
    petition.get_by_role("button", name="提交核实报告").click()
    expect(petition.locator("#panel-reports")).to_contain_text("经核实")
    assert Deadline.objects.get(incident=incident, kind="verification").state == "met"

    # --- 指挥小组提议 Ⅱ级响应; 领导在审批箱批准 -------------------------------------------------
    command.reload()
    open_action(command, "提议启动应急响应")
    command.locator("#panel-response").get_by_label("响应级别").select_option("2")
    command.locator("#panel-response").get_by_label("理由").fill("主流媒体转载，传播范围扩大")
    command.get_by_role("button", name="提交提议").click()
    expect(command.locator("#panel-response")).to_contain_text("待审批")

    leader = open_as("leader")
    leader.on("dialog", lambda d: d.accept())
    leader.get_by_role("link", name=re.compile("审批")).first.click()
    expect(leader.locator("#approvals")).to_contain_text("某小区业主集中反映交房延期")
    screenshot(leader, "approvals")
    leader.locator("#approvals").get_by_role("button", name="批准", exact=True).first.click()
    expect(leader.locator("#approvals")).not_to_contain_text("某小区业主集中反映交房延期")
    incident.refresh_from_db()
    assert incident.state == "responding" and incident.response.level == 2

    # --- 股室: 6 小时专报, 零报告重新计时 -------------------------------------------------------
    status = Deadline.objects.get(incident=incident, kind="status", state="open")
    assert dt.timedelta(hours=5, minutes=59) < status.due_at - incident.response.activated_at <= dt.timedelta(hours=6)
    petition.goto(f"{live_server.url}/todo/")
    expect(petition.locator("#todo")).to_contain_text("专报")
    petition.goto(url)
    petition.get_by_role("button", name=re.compile("零报告")).first.click()
    wait_for(lambda: Deadline.objects.filter(pk=status.pk, state="met").exists(), timeout=15)
    nxt = Deadline.objects.get(incident=incident, kind="status", state="open")
    assert nxt.pk != status.pk and nxt.due_at > status.due_at
    assert dt.timedelta(hours=5, minutes=59) < nxt.due_at - Deadline.objects.get(pk=status.pk).met_at <= dt.timedelta(hours=6)
    screenshot(petition, "incident")

    # --- 指挥小组逐日研判平稳, 机构批准解除 -----------------------------------------------------
    for day in (23, 24, 25, 26, 27):  # five working days (Monday to Friday)
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=True)
        command.goto(url)
        open_action(command, "平稳")
        form = command.locator("#panel-response form", has=command.locator("input[name=_form][value=assess]"))
        form.get_by_label("工作日").fill(f"2026-11-{day}")
        form.get_by_label("平稳", exact=True).check()
        form.get_by_role("button").last.click()
        expect(command.locator("#panel-response")).to_contain_text(f"2026-11-{day}")
    open_action(command, "提议解除")
    command.get_by_role("button", name=re.compile("提交")).last.click()
    expect(command.locator("#panel-response")).to_contain_text("待审批解除")
    leader.goto(url)
    leader.get_by_role("button", name="批准解除").click()
    expect(leader.locator("#incident-body")).to_contain_text("善后")
    incident.refresh_from_db()
    assert incident.state == "aftermath" and incident.response.state == "lifted"


def test_another_sections_incident_is_the_404_page(demo, open_as, live_server):
    api = Api(demo)
    iid = api.log(title="信访科的事件")["id"]
    api.act("command", iid, "assign", sections=["petition"])
    market = open_as("market")
    response = market.goto(f"{live_server.url}/incidents/{iid}/")
    assert response.status == 404
    expect(market.locator("body")).to_contain_text("页面不存在")
    assert "信访科的事件" not in market.content()


def test_dashboard_shows_warning_colours_and_the_heartbeat(demo, open_as, live_server, time_machine):

    time_machine.move_to(local(2026, 11, 23, 10, 0), tick=True)
    api = Api(demo)
    for level, title in [(1, "特别重大：某楼盘群体维权"), (2, "重大：房企资金链传闻"), (3, "较大：物业收费争议"),
                         (4, "一般：租房押金纠纷"), (4, "一般：电梯故障投诉")]:
        iid = api.log(title=title)["id"]
        api.act("command", iid, "assign", sections=["market"])
        api.act("command", iid, "warn", level=level, subject="s", scope="全市", matters="m", measures="m",
                delivery="system")
    api.act("command", iid, "judge", veracity="true", severity="medium")  # a response follows a judgment
    api.act("command", iid, "propose-response", level=4)
    api.act("onsite", iid, "approve-response")
    process_deadlines()
    command = open_as("command")
    page_text = command.locator("body")
    expect(page_text).to_contain_text("调度")
    # Countdowns follow the server's clock (10:00; verification due 13:00), not the PC's.
    expect(command.locator(".countdown").first).to_have_text(re.compile(r"剩余 (2小时5\d分|3小时0分)"))
    screenshot(command, "dashboard")
    tablet = open_as("market", viewport=(820, 1180))
    tablet.goto(f"{live_server.url}/todo/")
    # Nothing overflows sideways on a tablet.
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 820


def test_a_consultation_its_work_order_and_the_close_in_the_browser(demo, open_as, live_server, time_machine):
    """Issue 11: the command group convenes (会商) and records a work order; the section reports
    it done; the command group waives what is left and closes, lifting the warning in the step."""
    time_machine.move_to(local(2026, 11, 23, 9, 0), tick=True)
    api = Api(demo)
    iid = api.log(title="某小区业主集中反映交房延期")["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "judge", veracity="true", severity="major", analysis="集中维权")
    api.act("command", iid, "warn", level=4, subject="业主", scope="全市", matters="交房延期", measures="核实",
            delivery="system")
    url = f"{live_server.url}/incidents/{iid}/"

    command = open_as("command")
    command.goto(url)
    panel = command.locator("#panel-consultations")
    open_action(command, "召集会商")
    panel.get_by_label("会商议题").fill("研究交房延期处置")
    panel.get_by_label(re.compile("信访科 周丽")).check()
    panel.get_by_label("市网信办").check()
    panel.get_by_role("button", name="召集会商").click()
    expect(panel).to_contain_text("研究交房延期处置")
    assert Deadline.objects.get(incident_id=iid, kind="consultation").state == "met"
    open_action(command, "记录会商纪要和决定")
    panel.get_by_label("会商纪要").fill("统一口径，信访科当面答复业主。")
    panel.locator("[name=decisions-0-text]").fill("当面答复业主诉求")
    panel.locator("[name=decisions-0-section]").select_option("petition")
    panel.locator("[name=decisions-0-due_at]").fill("2026-11-23T18:00")
    panel.get_by_role("button", name="保存纪要").click()
    expect(panel.locator(".decision")).to_contain_text("当面答复业主诉求")

    petition = open_as("petition")
    petition.goto(url)
    open_action(petition, "报告完成")
    petition.get_by_label("完成情况").fill("已当面答复。")
    petition.locator("#panel-consultations").get_by_role("button", name="报告完成").click()
    expect(petition.locator("#panel-consultations")).to_contain_text("已完成")

    api.act("command", iid, "report", kind="summary", characteristics="集中爆发", measures_effect="及时回应",
            experience="快速核实", problems="首报偏慢", recommendations="加强监看")
    command.goto(url)
    for _n in range(command.locator(".loose-end").count()):  # 快报, 反馈, 核实: waived one by one
        end = command.locator(f"#{command.locator('.loose-end').first.get_attribute('id')}")
        end.locator("summary", has_text="豁免").click()
        end.get_by_label("豁免理由").fill("已当面处置，不再另行报送")
        end.get_by_role("button", name="确认豁免").click()
        expect(end).to_have_count(0)
    command.on("dialog", lambda dialog: dialog.accept())
    command.get_by_label("解除预警理由").fill("舆情平息")
    command.get_by_role("button", name="办结", exact=True).click()
    expect(command.locator("#incident-badges")).to_contain_text("已办结")
    assert set(Deadline.objects.filter(incident_id=iid, kind__in=["flash", "feedback", "verification"])
               .values_list("state", flat=True)) == {"waived"}
