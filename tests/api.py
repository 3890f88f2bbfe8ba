"""A small driver for the JSON API as the demo users would use it."""

import datetime as dt
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient

from incidents.models import Incident
from lifecycle.actions import ACTIONS, run
from lifecycle.payloads import IncidentCreateSerializer
from lifecycle.services import incident_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


class Api:
    def __init__(self, users):
        self.users = users

    def client(self, username, lang="zh-hans") -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=lang)
        client.force_authenticate(self.users[username])
        return client

    def get(self, username, url, **params):
        return self.client(username).get(url, params)

    def log(self, username="duty", **fields):
        payload = {
            "title": "某小区业主在贴吧集中反映交房延期",
            "summary": "多名业主发帖称交房延期，帖文被转发。",
            "channel": "monitoring",
            "discovered_at": fields.pop("discovered_at", None) or dt.datetime.now(SHANGHAI).isoformat(),
            "sources": [{"url": "https://tieba.example.com/p/1", "platform": "forum"}],
            **fields,
        }
        response = self.client(username).post("/api/v1/incidents/", payload, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def act(self, username, incident_id, action, expect=200, lang="zh-hans", **payload):
        response = self.client(username, lang).post(
            f"/api/v1/incidents/{incident_id}/{action}/", payload, format="json")
        assert response.status_code == expect, (action, username, response.status_code, response.content)
        return response.json() if response.content else None

    def tie_up(self, incident_id) -> dict:
        """Meet every obligation closing would leave open (API.md v1.1, ``deadlines.policy.
        LOOSE_ENDS``) the way the plan has it done: the command group reports the 舆情快报 and
        the written feedback and convenes the consultation, each section verifies and completes
        its work orders. Returns the incident."""
        inc = self.get("command", f"/api/v1/incidents/{incident_id}/").json()
        for d in [d for d in inc["deadlines"] if d["state"] == "open"]:
            if d["kind"] in ("flash", "feedback"):
                inc = self.act("command", incident_id, "report", kind=d["kind"], body="已按要求报送。")
            elif d["kind"] == "verification":
                inc = self.act(MEMBER[d["owner"]], incident_id, "report", kind="verification", section=d["owner"],
                               body="已核实。")
            elif d["kind"] == "consultation":
                inc = self.act("command", incident_id, "convene", agenda="研究处置", outside=["市网信办"])
        for c in inc["consultations"]:
            for order in c["decisions"]:
                if order["section"] and order["completed_at"] is None and order["state"] in ("open", "missed"):
                    inc = self.act(MEMBER[order["section"]], incident_id, "complete-order", order=order["id"],
                                   note="已办结。")
        return inc

    def close(self, incident_id, username="command", expect=200, **payload):
        """Close as the plan requires: loose ends tied up, the warning lifted in the same step."""
        inc = self.tie_up(incident_id)
        if inc["warning"] is not None:
            payload.setdefault("lift_warning_reason", "舆情平息，解除预警。")
        return self.act(username, incident_id, "close", expect=expect, **payload)


def ready_to_respond(actor, incident_id, sections=("market",), severity="medium", recommended=None):
    """What the plan asks before a response is proposed (issue 11): the command group has
    judged the incident and, for levels I–III, assigned the sections that will report.
    ``actor`` is an ``Api`` or a ``Direct``."""
    actor.act("command", incident_id, "judge", veracity="true", severity=severity, analysis="业主集中反映，有扩散风险",
              **({"recommended_response_level": recommended} if recommended else {}))
    if sections:
        actor.act("command", incident_id, "assign", sections=list(sections))


# A demo user who acts for each section (fixtures/demo_organization.json).
MEMBER = {"petition": "petition", "market": "market", "info": "duty", "office": "command2"}


class Direct:
    """Bulk set-up without HTTP: the same payload serializers and the same services the API's
    views run (``lifecycle.actions.run``), minus the request and the serialised response. For
    fixtures that build many incidents; what a test measures or asserts still goes through
    the API."""

    def __init__(self, users):
        self.users = users

    def log(self, username="duty", **fields) -> int:

        payload = {
            "title": "某小区业主在贴吧集中反映交房延期",
            "summary": "多名业主发帖称交房延期，帖文被转发。",
            "channel": "monitoring",
            "discovered_at": dt.datetime.now(SHANGHAI).isoformat(),
            "sources": [{"url": "https://tieba.example.com/p/1", "platform": "forum"}],
            **fields,
        }
        data = IncidentCreateSerializer(data=payload)
        data.is_valid(raise_exception=True)
        return incident_create(actor=self.users[username], **data.validated_data).pk

    def act(self, username, incident_id, action, **payload):

        run(ACTIONS[action], Incident.objects.get(pk=incident_id), self.users[username], payload)


def deadlines(incident, kind=None, owner=None, state=None):
    return [d for d in incident["deadlines"]
            if (kind is None or d["kind"] == kind) and (owner is None or d["owner"] == owner)
            and (state is None or d["state"] == state)]


def parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts)
