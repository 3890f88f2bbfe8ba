"""审批's page as plain values (issue 12): its pager reads the page and the total in one
statement, its values say what the model reads say, and each card prints what the template
printed — escaped, with the raise's two levels, the lift's counter, a lifted warning and the
proposer's own proposal offered to nobody's vote."""

import pytest

from incidents.selectors import (
    latest_event_values,
    latest_events,
    latest_judgment_values,
    latest_judgments,
)
from organization.models import Body, BodyMembership
from responses.models import Response
from workplace.paging import LOOKAHEAD, page_read

from .test_workplace import HTMX, act_url, html, responding, warned


def reader(total):
    """``read(offset, limit)`` over ``total`` rows, counting its calls."""
    rows = list(range(total))
    calls = []

    def read(offset, limit):
        calls.append((offset, limit))
        page = rows[offset:offset + limit]
        return page, (total if page else None)

    return read, calls


@pytest.mark.parametrize(("total", "asked", "number", "shown", "count_label", "statements"), [
    (0, "1", 1, [], "0", 1),
    (5, None, 1, [0, 1, 2, 3, 4], "5", 1),
    (45, "3", 3, [40, 41, 42, 43, 44], "45", 1),
    (45, "x", 1, list(range(20)), "45", 1),
    (45, "99", 3, [40, 41, 42, 43, 44], "45", 3),  # past the end: counted, then the last page
    (5000, "2", 2, list(range(20, 40)), f"{2 * 20 + LOOKAHEAD}+", 1),
])
def test_a_counted_page_is_the_capped_pager_of_one_statement(total, asked, number, shown, count_label, statements):
    read, calls = reader(total)
    page = page_read(read, asked)
    assert page.number == number and list(page.object_list) == shown
    assert page.paginator.total == count_label and len(calls) == statements
    assert page.has_next() == (total > number * 20)


@pytest.mark.django_db
def test_the_values_are_what_the_model_reads_say(api):
    one = warned(api, level=2)
    api.act("command", one["id"], "judge", veracity="true", severity="major", analysis="再判", recommended_response_level=2)
    two = warned(api, level=3)
    ids = [one["id"], two["id"], 10**9]
    judgments = latest_judgments(ids)
    assert latest_judgment_values(ids) == {
        pk: (j.severity, j.veracity, j.judged_at, j.analysis, j.recommended_response_level) for pk, j in judgments.items()}
    events = latest_events(ids, 3)
    assert latest_event_values(ids, 3) == {
        pk: [(e.at, str(e.actor) if e.actor else None, e.verb) for e in rows] for pk, rows in events.items()}
    assert latest_judgment_values([]) == {} and latest_event_values([], 3) == {}


@pytest.mark.django_db
def test_each_card_prints_its_proposal_escaped(api, web, demo):
    start = warned(api, level=2, title="<b>A&B</b>")
    api.act("command", start["id"], "propose-response", level=2, reason="扩大 <script>")
    raised = responding(api, level=3, approver="infohead")
    api.act("command", raised["id"], "lift-warning", reason="平稳")
    api.act("command", raised["id"], "propose-response", level=2, reason="升级")
    lifting = responding(api, level=2)
    Response.objects.filter(incident_id=lifting["id"]).update(stable_working_days=5)
    api.act("command", lifting["id"], "propose-lift", reason="平稳")
    page = html(web("leader").get("/approvals/"))
    assert f"#{start['id']} &lt;b&gt;A&amp;B&lt;/b&gt;" in page and "扩大 &lt;script&gt;" in page
    assert "扩大 <script>" not in page and "<b>A&B</b>" not in page
    assert "调整响应级别" in page and "解除应急响应" in page and '<span class="badge text-bg-secondary">已解除</span>' in page
    assert "<strong>5 / 5</strong>" in page and "progress-bar bg-success" in page and "width: 100%" in page
    assert page.count('name="csrfmiddlewaretoken"') >= 6 and f'id="id_reject_{lifting["id"]}_reason"' in page
    # The proposer sits in the deciding body: no vote on their own proposal.
    BodyMembership.objects.create(body=Body.objects.get(code="level2"), user=demo["command"])
    own = html(web("command").get("/approvals/"))
    assert own.count("这是您提出的提议，须由本机构其他成员审批。") == 3 and act_url(start["id"], "approve-response") not in own
    # A rejection without its reason comes back open, with what was typed and the error.
    again = web("leader").post(act_url(lifting["id"], "reject-lift"), {
        "_from": "approvals", "_form": f"reject_{lifting['id']}", "reason": " ", "page": "1"}, **HTMX)
    text = html(again)
    assert again["HX-Retarget"] == "#approvals" and "该字段是必填项。" in text
    assert '<details class="action flex-grow-1" open>' in text
    assert f'is-invalid" id="id_reject_{lifting["id"]}_reason" name="reason" rows="2" > </textarea>' in text
