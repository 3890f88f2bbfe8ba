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


def ready_to_respond(actor, incident_id, sections=("market",), severity="medium", recommended=None):
    """What the plan asks before a response is proposed (issue 11): the command group has
    judged the incident and, for levels I–III, assigned the sections that will report.
    ``actor`` is an ``Api`` or a ``Direct``."""
    actor.act("command", incident_id, "judge", veracity="true", severity=severity, analysis="业主集中反映，有扩散风险",
              **({"recommended_response_level": recommended} if recommended else {}))
    if sections:
        actor.act("command", incident_id, "assign", sections=list(sections))


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
