"""Two people act on the same proposal at the same moment: exactly one wins, the other
gets 409 (real threads, real connections, PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection, connections

from organization import services as org
from organization.models import Body
from responses.models import ResponseProposal

from .api import Api, local, ready_to_respond

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row-lock concurrency is tested on PostgreSQL (CI)")


def _race(api, calls):
    """Start every call at once (a barrier), each on its own thread and DB connection."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, username, action, payload):
        try:
            barrier.wait()
            response = api.client(username).post(f"/api/v1/incidents/{payload.pop('iid')}/{action}/",
                                                 payload, format="json")
            results[i] = (response.status_code, response.json() if response.content else None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def two_approvers(demo):
    second = org.user_ensure(username="leader2", password="x-demo-pass-2026", full_name="副局长")
    org.body_add_member(body=Body.objects.get(code="level2"), user=second)
    return {**demo, "leader2": second}


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvals_exactly_one_succeeds(two_approvers):
    api = Api(two_approvers)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=2)
    results = _race(api, [("leader", "approve-response", {"iid": iid}),
                          ("leader2", "approve-response", {"iid": iid})])
    codes = sorted(code for code, _ in results)
    assert codes == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["detail"]  # a message saying why
    inc = api.get("command", f"/api/v1/incidents/{iid}/").json()
    assert inc["response"]["state"] == "active"
    assert [e["verb"] for e in inc["timeline"]].count("response_approved") == 1
    assert len([d for d in inc["deadlines"] if d["kind"] == "briefing"]) == 1  # scheduled once


@pytest.mark.django_db(transaction=True)
def test_simultaneous_approve_and_reject_exactly_one_decides(two_approvers):
    api = Api(two_approvers)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=2)
    results = _race(api, [("leader", "approve-response", {"iid": iid}),
                          ("leader2", "reject-response", {"iid": iid, "reason": "不同意"})])
    assert sorted(code for code, _ in results) == [200, 409], results

    assert ResponseProposal.objects.get(incident_id=iid).decision in ("approved", "rejected")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_lift_approvals_lift_once(two_approvers, time_machine):

    api = Api(two_approvers)
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=2)
    api.act("leader", iid, "approve-response")
    for day in (2, 3, 4, 5, 6):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=f"2026-11-0{day}", stable=True)
    api.act("command", iid, "propose-lift", reason="平稳")
    results = _race(api, [("leader", "approve-lift", {"iid": iid}), ("leader2", "approve-lift", {"iid": iid})])
    assert sorted(code for code, _ in results) == [200, 409], results
    inc = api.get("command", f"/api/v1/incidents/{iid}/").json()
    assert len([d for d in inc["deadlines"] if d["kind"] == "summary"]) == 1
