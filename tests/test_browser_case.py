"""The incident page as a case file (issue 15), in headless Chromium: one level II case walked
through its stages (logged, judged, warned, responding, closed), each seen by the command
group at desktop and tablet width — nothing wider than the window, the header's next step and
the owed deadlines in view — and the closed case under 2,500 px tall at 1440 px, unclipped from
1280 to 1920 px. Screenshots (SCREENSHOTS=1): docs/screenshots/case-<stage>[-tablet].png."""

import pytest
from playwright.sync_api import expect

from .api import Direct, local
from .browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, TABLET = (1440, 900), (820, 1180)
FITS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
HEIGHT = "() => document.documentElement.scrollHeight"
# Elements of the case file whose content is wider than their box (cut off or scrolled sideways).
CLIPPED = """() => [...document.querySelectorAll('#incident-body *')]
  .filter(el => el.checkVisibility() && !el.matches('input, textarea, select')
          && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible')
  .map(el => el.id || el.className || el.tagName)"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _look(page, url, name, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(url)
    expect(page.locator("#case-header")).to_be_visible()
    expect(page.locator("#panel-deadlines")).to_be_visible()
    assert page.evaluate(FITS), f"{url} is wider than {viewport[0]} px"
    assert page.evaluate(CLIPPED) == [], f"clipped at {viewport[0]} px"
    if name:
        screenshot(page, name)


def test_the_case_file_at_each_stage(demo, open_as, live_server, time_machine):
    time_machine.move_to(local(2026, 11, 23, 9, 0), tick=True)
    act = Direct(demo)
    iid = act.log(title="某小区业主集中反映交房延期", discovered_at=local(2026, 11, 23, 8, 40).isoformat(),
                  summary="多名业主在贴吧发帖称小区交房延期，帖文被大量转发，部分网民质疑监管不力。")
    url = f"{live_server.url}/incidents/{iid}/"
    command = open_as("command", viewport=DESKTOP)

    # logged: the next step is the judgment; the quick report is met, the flash report owed
    _look(command, url, "case-logged", DESKTOP)
    expect(command.locator("#next-steps")).to_contain_text("研判")
    _look(command, url, "case-logged-tablet", TABLET)
    command.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    command.locator("#next-steps a", has_text="研判").first.click()
    expect(command.locator("#panel-judgment details.action[open]")).to_be_visible()  # the step opens its form

    act.act("command", iid, "assign", sections=["petition"])
    act.act("command", iid, "judge", veracity="true", severity="major", mode="joint",
            analysis="业主维权诉求集中，存在扩大炒作风险。", recommended_warning_level=2, recommended_response_level=2)
    _look(command, url, "case-judged", DESKTOP)
    expect(command.locator("#next-steps")).to_contain_text("发布预警")
    _look(command, url, "case-judged-tablet", TABLET)
    # what a major judgment calls for within the hour (R14, R35): the 快报, the consultation
    act.act("command", iid, "report", kind="flash", body="舆情快报：相关帖文持续发酵。")
    act.act("command", iid, "convene", agenda="研判处置措施，统一对外口径", participants=["petition"],
            outside=["市网信办"])

    act.act("command", iid, "warn", level=2, subject="某小区业主", scope="全市房地产领域",
            matters="交房延期引发集中投诉", measures="核实情况，统一口径，做好解释", delivery="system")
    _look(command, url, "case-warned", DESKTOP)
    expect(command.locator("#next-steps")).to_contain_text("提议启动应急响应")
    expect(command.locator("#panel-deadlines")).to_contain_text("核实")  # the section's verification is owed
    _look(command, url, "case-warned-tablet", TABLET)
    act.act("petition", iid, "report", kind="verification", section="petition", body="已核实：开发商承认延期。")
    act.act("command", iid, "report", kind="feedback", body="书面反馈：已核实并回应。")

    act.act("command", iid, "propose-response", level=2, reason="主流媒体转载，传播范围扩大")
    act.act("leader", iid, "approve-response")
    act.act("petition", iid, "report", kind="status", section="petition", body="专报：开发商已出具交房计划。")
    _look(command, url, "case-responding", DESKTOP)
    # the daily judgment is the next step; the lift is not yet possible, and the page says why
    # in the check's own words
    expect(command.locator("#next-steps")).to_contain_text("研判当日是否平稳")
    expect(command.locator("#next-steps .prerequisite")).to_contain_text("连续平稳工作日为 0 天")
    expect(command.locator("#panel-deadlines")).to_contain_text("专报")
    _look(command, url, "case-responding-tablet", TABLET)

    for day in (23, 24, 25, 26, 27):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=True)
        act.act("command", iid, "assess", date=f"2026-11-{day}", stable=True, note="舆情平稳")
    act.act("command", iid, "propose-lift", reason="连续五个工作日平稳")
    act.act("leader", iid, "approve-lift")
    # aftermath: closing still needs the summary report — said before anyone tries
    command.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    command.goto(url)
    expect(command.locator("#next-steps .prerequisite")).to_contain_text("专题报告")
    act.act("command", iid, "report", kind="summary", characteristics="集中爆发，迅速回落",
            measures_effect="及时回应，效果良好", experience="快速核实", problems="首报偏慢",
            recommendations="加强监看")
    act.act("command", iid, "close", lift_warning_reason="舆情平息，解除预警")

    _look(command, url, "case-closed", DESKTOP)
    height = command.evaluate(HEIGHT)
    assert height < 2500, f"the closed level II case is {height} px tall at 1440 px"
    expect(command.locator("#next-steps")).to_contain_text("重新启动")
    for width in (1280, 1920):
        _look(command, url, None, (width, 900))
    _look(command, url, "case-closed-tablet", TABLET)
    # a list opened: the reports, loaded into their panel, still within the window
    command.locator("#panel-reports details.case-more summary").click()
    expect(command.locator("#report-list")).to_contain_text("集中爆发")
    assert command.evaluate(FITS)
