"""Each role's home page in headless Chromium, on the living demo (seed_demo --with-cases):
it starts there, reaches its next task in at most two clicks, and nothing is clipped at
1280–1920 px or on a tablet (820 px). Screenshots (SCREENSHOTS=1): docs/screenshots/home-*.png."""

import pytest
from playwright.sync_api import expect

from lifecycle.demo_cases import seed_cases

from .browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["duty", "command", "leader", "infohead", "petition", "auditor"]
WIDTHS = [(1280, 900), (1440, 900), (1920, 1080), (820, 1180)]

# Elements whose content is cut (overflow hidden or scrolling) — an ellipsis on purpose
# excepted — and a page wider than the window; countdowns must show whole, inside their card.
CLIPPED = """() => {
  const bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.');
  for (const el of document.querySelectorAll('main *, body > .container-fluid *, nav *')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.textOverflow === 'ellipsis' || el.matches('.visually-hidden')) continue;
    if (cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) bad.push(name(el));
  }
  if (document.documentElement.scrollWidth > window.innerWidth) bad.push('document ' + document.documentElement.scrollWidth);
  for (const c of document.querySelectorAll('.countdown')) {
    const r = c.getBoundingClientRect(), card = c.closest('.card').getBoundingClientRect();
    if (r.right > card.right + 1 || r.left < card.left - 1 || c.scrollWidth > c.clientWidth + 1) bad.push('countdown ' + c.textContent);
  }
  return bad;
}"""


def test_every_home_fits_and_leads_to_the_next_task(demo, open_as, live_server):
    assert seed_cases() == 12
    for username in ROLES:
        page = open_as(username)
        assert page.url == f"{live_server.url}/", username  # the home is where one lands
        page.wait_for_load_state("networkidle")
        for width, height in WIDTHS:  # the same page, the window resized (the layout reflows)
            page.set_viewport_size({"width": width, "height": height})
            assert page.evaluate(CLIPPED) == [], (username, width)
            if width in (1440, 820):
                screenshot(page, f"home-{username}-{'tablet' if width == 820 else 'desktop'}")
        page.context.close()

    # 值班员: one click to the intake form.
    duty = open_as("duty")
    duty.locator("#home-log").click()
    expect(duty.locator("#quick-clock")).to_be_visible()

    # 指挥小组: the oldest incident waiting for judgment is one click away, its 研判 form the second.
    command = open_as("command")
    command.locator("#judgment-queue a.text-truncate").first.click()
    command.locator("summary", has_text="研判").first.click()
    expect(command.get_by_role("button", name="提交研判")).to_be_visible()

    # 领导 (level II): the proposal waiting for the leader, then its approve button.
    leader = open_as("leader")
    expect(leader.locator("#home-approvals")).to_contain_text("景区游客滞留")
    leader.locator("#home-approvals a.btn").first.click()
    expect(leader.get_by_role("button", name="批准").first).to_be_visible()

    # Level III body: the lift whose stable days are all recorded, approved in two clicks.
    infohead = open_as("infohead")
    infohead.on("dialog", lambda dialog: dialog.accept())  # 确定批准？
    infohead.locator("#home-approvals a.btn").first.click()
    infohead.locator(".approval").filter(has_text="食堂").get_by_role("button", name="批准").first.click()
    expect(infohead.locator(".approval").filter(has_text="食堂")).to_have_count(0)

    # 股室: the warning notice to sign, signed from the home page itself.
    petition = open_as("petition")
    sign = petition.locator("#home-to-sign button", has_text="签收")
    expect(sign.first).to_be_visible()
    before = sign.count()
    sign.first.click()
    petition.wait_for_load_state("networkidle")
    assert petition.locator("#home-to-sign button", has_text="签收").count() == before - 1

    # 档案审计: a closed case, one click.
    auditor = open_as("auditor")
    auditor.locator("#home-closed a").first.click()
    expect(auditor.locator("body")).to_contain_text("已办结")

    # 问责统计: this month by default, the rate chart's names whole, nothing clipped.
    for width, height in [(1440, 900), (820, 1180)]:
        command.set_viewport_size({"width": width, "height": height})
        command.goto(f"{live_server.url}/accountability/")
        expect(command.locator("#ontime-chart canvas")).to_be_visible()
        assert command.evaluate(CLIPPED) == [], ("accountability", width)
        screenshot(command, "accountability" + ("-tablet" if width == 820 else ""))
