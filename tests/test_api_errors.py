"""Every documented error shape of the API (API.md "Errors"), in Chinese by default and in
English on request, and the OpenAPI document with its locally served docs page.

400 {field: [message]} invalid input · 401 no credentials · 403 {detail} a role that may not
act · 404 an object the user may not see (or that does not exist) · 409 {detail} an action the
current state does not allow. A refused request keeps nothing.
"""

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from deadlines.models import Deadline
from early_warnings.models import WarningNotice
from incidents.models import Incident, Judgment, Source, TimelineEvent
from lifecycle.actions import ACTIONS
from organization import services
from organization.models import Body

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/incidents/"
CJK = re.compile(r"[\u4e00-\u9fff]")


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


class Desk:
    """The demo users at their desks, one force-authenticated API client each."""

    def __init__(self, users):
        self.users = users

    def as_(self, username, lang=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=lang) if lang else APIClient()
        client.force_authenticate(self.users[username])
        return client

    def post(self, username, url, payload=None, lang=None):
        return self.as_(username, lang).post(url, payload or {}, format="json")

    def log(self, by="duty", **fields) -> dict:
        response = self.post(by, URL, incident_payload(**fields))
        assert response.status_code == 201, response.content
        return response.json()

    def act(self, by, pk, action, expect=200, lang=None, **payload):
        response = self.post(by, f"{URL}{pk}/{action}/", payload, lang)
        assert response.status_code == expect, (by, action, response.status_code, response.content)
        return response


def incident_payload(**fields) -> dict:
    return {
        "title": "某楼盘延期交房引发业主维权",
        "summary": "业主在微博集中发帖，话题阅读量上升。",
        "channel": "monitoring",
        "discovered_at": dt.datetime.now(SHANGHAI).isoformat(),
        "sources": [{"url": "https://weibo.example.com/u/1/status/2", "platform": "weibo"}],
        **fields,
    }


WARNING = {"level": 3, "subject": "涉事楼盘业主", "scope": "全市购房群体", "matters": "聚集维权风险",
           "measures": "核实交房进度，及时回应关切", "delivery": "system"}


@pytest.fixture
def desk(demo):
    return Desk(demo)


@pytest.fixture
def judging(desk):
    """Logged by duty, assigned to 信访科 by the command group: state `judging`."""
    incident = desk.log()
    desk.act("command", incident["id"], "assign", sections=["petition"])
    desk.act("command", incident["id"], "judge", veracity="true", severity="medium")
    return incident


def snapshot():
    return (Incident.objects.count(), TimelineEvent.objects.count(), Source.objects.count(),
            Deadline.objects.count(), Judgment.objects.count(), WarningNotice.objects.count())


# --- 401 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method,url", [
    ("get", URL), ("post", URL), ("get", f"{URL}1/"), ("post", f"{URL}1/judge/"),
    ("get", "/api/v1/deadlines/"), ("get", "/api/v1/sections/"), ("get", "/api/v1/attachments/1/download/"),
])
def test_without_credentials_the_api_answers_401_in_json(demo, method, url):
    response = getattr(APIClient(), method)(url, incident_payload() if method == "post" else None, format="json")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "身份认证信息未提供。"}
    assert response["WWW-Authenticate"] == "Token"


def test_without_credentials_nothing_is_logged(demo):
    before = snapshot()
    assert APIClient().post(URL, incident_payload(), format="json").status_code == 401
    assert snapshot() == before


def test_a_401_speaks_english_on_request(demo):
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").get(URL)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_monitoring_software_obtains_a_token_and_files_with_it(demo):
    client = APIClient()
    issued = client.post("/api/v1/auth/token/", {"username": "duty", "password": "demo-pass-2026"}, format="json")
    assert issued.status_code == 200 and set(issued.json()) == {"token"}
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    created = client.post(URL, incident_payload(title="软件监看：某小区燃气泄漏传言"), format="json")
    assert created.status_code == 201
    assert created.json()["reported_by"] == "duty"
    assert client.get(f"{URL}{created.json()['id']}/").status_code == 200


def test_a_wrong_password_gets_no_token_and_a_bad_token_gets_401(demo):
    refused = APIClient().post("/api/v1/auth/token/", {"username": "duty", "password": "wrong"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["无法使用提供的认证信息登录。"]}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get(URL)
    assert response.status_code == 401 and set(response.json()) == {"detail"}


# --- 400 ---------------------------------------------------------------------------------

def item(errors, index=0) -> dict:
    """The errors of one item of a list field (DRF keys them by index)."""
    return errors[index] if isinstance(errors, list) else errors[str(index)]


INVALID_INCIDENTS = {
    "missing title": ({"title": None}, lambda e: e["title"] == ["该字段是必填项。"]),
    "unknown channel": ({"channel": "telegram"}, lambda e: e["channel"] == ["“telegram” 不是合法选项。"]),
    "ftp source": ({"sources": [{"url": "ftp://files.example.com/a.txt", "platform": "forum"}]},
                   lambda e: "http://" in item(e["sources"])["url"][0] and "https://" in item(e["sources"])["url"][0]),
    "javascript source": ({"sources": [{"url": "javascript:alert(document.cookie)", "platform": "forum"}]},
                          lambda e: "http://" in item(e["sources"])["url"][0]),
    "unknown platform": ({"sources": [{"url": "https://x.example.com/1", "platform": "myspace"}]},
                         lambda e: item(e["sources"])["platform"] == ["“myspace” 不是合法选项。"]),
    "unknown section": ({"sections": ["petition", "nowhere"]}, lambda e: e["sections"] == ["未知的股室代码：nowhere"]),
    "discovered in the future": ({"discovered_at": (dt.datetime.now(SHANGHAI) + dt.timedelta(days=1)).isoformat()},
                                 lambda e: e["discovered_at"] == ["发现时间不能晚于当前时间。"]),
}


@pytest.mark.parametrize("case", INVALID_INCIDENTS)
def test_invalid_input_when_logging_answers_400_by_field_in_chinese_and_keeps_nothing(desk, case):
    change, check = INVALID_INCIDENTS[case]
    payload = {k: v for k, v in incident_payload(**change).items() if v is not None}
    before = snapshot()
    response = desk.post("duty", URL, payload)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert "detail" not in errors and check(errors), errors
    assert snapshot() == before


def test_builtin_validation_messages_speak_english_on_request(desk):
    payload = incident_payload(channel="telegram")
    del payload["title"]
    errors = desk.post("duty", URL, payload, lang="en").json()
    assert errors["title"] == ["This field is required."]
    assert errors["channel"] == ['"telegram" is not a valid choice.']
    # and Chinese is the default, also when asked for explicitly
    assert desk.post("duty", URL, payload).json()["title"] == ["该字段是必填项。"]
    assert desk.post("duty", URL, payload, lang="zh-hans").json()["title"] == ["该字段是必填项。"]


def test_a_source_link_must_be_http_or_https_also_when_added_later(desk, judging):
    pk = judging["id"]
    before = snapshot()
    response = desk.act("command", pk, "add-source", expect=400, url="ftp://files.example.com/x", platform="news")
    assert "https://" in response.json()["url"][0]
    assert snapshot() == before


def test_judging_with_an_unknown_severity_answers_400_and_judges_nothing(desk, judging):
    pk = judging["id"]
    before = snapshot()
    errors = desk.act("command", pk, "judge", expect=400, veracity="true", severity="huge").json()
    assert errors == {"severity": ["“huge” 不是合法选项。"]}
    assert desk.act("command", pk, "judge", expect=400, lang="en", veracity="maybe", severity="major").json() == {
        "veracity": ['"maybe" is not a valid choice.']}
    assert snapshot() == before
    assert desk.as_("command").get(f"{URL}{pk}/").json()["state"] == "judging"


def test_a_warning_without_its_fields_answers_400_naming_each_missing_field(desk, judging):
    before = snapshot()
    errors = desk.act("command", judging["id"], "warn", expect=400).json()
    assert set(errors) == {"level", "subject", "scope", "matters", "measures", "delivery"}
    assert all(messages == ["该字段是必填项。"] for messages in errors.values())
    assert snapshot() == before


def test_adjusting_a_warning_to_its_current_level_answers_400_and_issues_no_notice(desk, judging):
    pk = judging["id"]
    desk.act("command", pk, "warn", **WARNING)
    before = snapshot()
    errors = desk.act("command", pk, "warn", expect=400, **WARNING).json()
    assert list(errors) == ["level"]
    assert snapshot() == before


def test_assigning_an_unknown_section_answers_400_and_assigns_nothing(desk, judging):
    pk = judging["id"]
    before = snapshot()
    errors = desk.act("command", pk, "assign", expect=400, sections=["market", "nowhere"]).json()
    assert errors == {"sections": ["未知的股室代码：nowhere"]}
    assert snapshot() == before
    assert desk.as_("command").get(f"{URL}{pk}/").json()["sections"] == ["petition"]


def test_an_invalid_list_filter_answers_400_naming_the_filter(desk, judging):
    response = desk.as_("command").get(URL, {"state": "exploded"})
    assert response.status_code == 400 and list(response.json()) == ["state"]
    response = desk.as_("command").get(URL, {"response_level": "high"})
    assert response.status_code == 400 and list(response.json()) == ["response_level"]


@pytest.fixture
def responding_at_level_iii(desk, time_machine):
    """Activated on Friday 2026-11-20 by the level III body; it is now Monday 2026-11-23."""
    time_machine.move_to(local(2026, 11, 20, 10, 0), tick=False)
    incident = desk.log()
    pk = incident["id"]
    desk.act("command", pk, "assign", sections=["petition"])
    desk.act("command", pk, "judge", veracity="true", severity="major")
    desk.act("command", pk, "propose-response", level=3, reason="舆情持续发酵")
    desk.act("infohead", pk, "approve-response")
    time_machine.move_to(local(2026, 11, 23, 10, 0), tick=False)
    return incident


def test_assessing_a_weekend_day_answers_400_on_the_date(desk, responding_at_level_iii):
    pk = responding_at_level_iii["id"]
    before = snapshot()
    errors = desk.act("command", pk, "assess", expect=400, date="2026-11-22", stable=True).json()
    assert list(errors) == ["date"] and "2026-11-22" in errors["date"][0] and "工作日" in errors["date"][0]
    errors = desk.act("command", pk, "assess", expect=400, date="22/11/2026", stable=True).json()
    assert list(errors) == ["date"]
    assert snapshot() == before
    desk.act("command", pk, "assess", date="2026-11-20", stable=True)  # the Friday counts


# --- 403 ---------------------------------------------------------------------------------

def test_a_section_may_not_judge_its_own_incident(desk, judging):
    before = snapshot()
    response = desk.act("petition", judging["id"], "judge", expect=403, veracity="true", severity="minor")
    assert list(response.json()) == ["detail"] and response.json()["detail"]
    assert snapshot() == before


def test_the_duty_desk_may_not_assign_sections(desk, judging):
    response = desk.act("duty", judging["id"], "assign", expect=403, sections=["market"])
    assert list(response.json()) == ["detail"]


def test_the_command_group_may_not_approve_its_own_proposal(desk, judging):
    pk = judging["id"]
    desk.act("command", pk, "propose-response", level=3, reason="需启动Ⅲ级响应")
    before = snapshot()
    response = desk.act("command", pk, "approve-response", expect=403)
    assert list(response.json()) == ["detail"]
    response = desk.act("command2", pk, "approve-response", expect=403)  # not a body member either
    assert list(response.json()) == ["detail"]
    assert snapshot() == before


def test_a_proposer_who_sits_on_the_level_body_still_may_not_approve_their_own_proposal(desk, judging):

    services.body_add_member(body=Body.objects.get(code="level3"), user=desk.users["command2"])
    pk = judging["id"]
    desk.act("command2", pk, "propose-response", level=3, reason="需启动Ⅲ级响应")
    response = desk.act("command2", pk, "approve-response", expect=403)
    assert response.json() == {"detail": "不能审批自己提出的响应级别提议。"}
    desk.act("infohead", pk, "approve-response")


def test_leadership_may_not_approve_a_level_iii_proposal_but_the_level_iii_body_may(desk, judging):
    pk = judging["id"]
    desk.act("command", pk, "propose-response", level=3, reason="需启动Ⅲ级响应")
    before = snapshot()
    refused = desk.act("leader", pk, "approve-response", expect=403).json()
    assert list(refused) == ["detail"] and "信息中心应急指挥工作组" in refused["detail"]
    assert snapshot() == before
    approved = desk.act("infohead", pk, "approve-response").json()
    assert approved["state"] == "responding"
    assert approved["response"]["state"] == "active" and approved["response"]["level"] == 3


# --- 404 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [f"{URL}999999/", f"{URL}abc/"])
def test_a_nonexistent_incident_answers_404_in_json(desk, url):
    response = desk.as_("command").get(url)
    assert response.status_code == 404 and response.json() == {"detail": "未找到。"}
    action = desk.post("command", f"{url}judge/", {"veracity": "true", "severity": "minor"})
    assert action.status_code == 404 and action.json() == {"detail": "未找到。"}


def test_an_incident_the_user_may_not_see_answers_exactly_like_a_nonexistent_one(desk, judging):
    hidden = desk.as_("market", "en").get(f"{URL}{judging['id']}/")
    missing = desk.as_("market", "en").get(f"{URL}999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "Not found."}
    assert desk.post("market", f"{URL}{judging['id']}/judge/", {}).status_code == 404


def test_an_unknown_api_path_answers_404_in_json(desk):
    response = desk.as_("command").get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


# --- 409 ---------------------------------------------------------------------------------

def test_closing_an_incident_still_being_judged_answers_409(desk, judging):
    before = snapshot()
    response = desk.act("command", judging["id"], "close", expect=409)
    assert list(response.json()) == ["detail"] and "研判处置中" in response.json()["detail"]
    assert snapshot() == before


def test_approving_when_no_proposal_is_pending_answers_409(desk, responding_at_level_iii):
    response = desk.act("infohead", responding_at_level_iii["id"], "approve-response", expect=409)
    assert response.json() == {"detail": "没有待审批的响应级别提议。"}


def test_approving_a_response_that_was_never_proposed_answers_409(desk, judging):
    response = desk.act("leader", judging["id"], "approve-response", expect=409)
    assert list(response.json()) == ["detail"]


def test_lifting_a_warning_that_is_not_active_answers_409(desk, judging):
    pk = judging["id"]
    response = desk.act("command", pk, "lift-warning", expect=409, reason="已平息")
    assert response.json() == {"detail": "该事件没有生效中的预警。"}
    desk.act("command", pk, "warn", **WARNING)
    desk.act("command", pk, "lift-warning", reason="已平息")
    assert desk.act("command", pk, "lift-warning", expect=409, reason="再次解除").json() == {
        "detail": "该事件没有生效中的预警。"}


def test_proposing_to_lift_before_enough_stable_working_days_answers_409(desk, responding_at_level_iii):
    pk = responding_at_level_iii["id"]
    desk.act("command", pk, "assess", date="2026-11-20", stable=True)
    desk.act("command", pk, "assess", date="2026-11-23", stable=True)
    before = snapshot()
    response = desk.act("command", pk, "propose-lift", expect=409, reason="已平稳")
    assert list(response.json()) == ["detail"] and "2" in response.json()["detail"] and "3" in response.json()["detail"]
    assert snapshot() == before
    assert desk.as_("command").get(f"{URL}{pk}/").json()["response"]["state"] == "active"


# --- our own messages in English ------------------------------------------------------------
# API.md: messages in the request's language; locale/en translates the services' own messages.

def test_a_role_refusal_speaks_english_on_request(desk, judging):
    detail = desk.act("petition", judging["id"], "judge", expect=403, lang="en",
                      veracity="true", severity="minor").json()["detail"]
    assert not CJK.search(detail), detail


def test_a_state_conflict_speaks_english_on_request(desk, judging):
    detail = desk.act("command", judging["id"], "close", expect=409, lang="en").json()["detail"]
    assert not CJK.search(detail), detail


def test_the_http_only_source_rule_speaks_english_on_request(desk):
    payload = incident_payload(sources=[{"url": "ftp://files.example.com/a", "platform": "forum"}])
    message = item(desk.post("duty", URL, payload, lang="en").json()["sources"])["url"][0]
    assert "http" in message and not CJK.search(message), message


# --- the OpenAPI document and its docs page ---------------------------------------------

def openapi(client) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def logged_in(demo) -> APIClient:
    client = APIClient()
    client.force_authenticate(demo["auditor"])
    return client


def test_the_schema_is_an_openapi_3_document_listing_every_endpoint_and_action(demo):

    doc = openapi(logged_in(demo))
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ["/api/v1/auth/token/", "/api/v1/sections/", "/api/v1/incidents/", "/api/v1/incidents/{id}/",
                 "/api/v1/deadlines/", "/api/v1/notifications/", "/api/v1/incidents/{id}/attachments/",
                 "/api/v1/attachments/{id}/download/"]:
        assert path in paths, path
    for name in ACTIONS:
        assert "post" in paths[f"/api/v1/incidents/{{id}}/{name}/"], name
    assert {"get", "post"} <= set(paths["/api/v1/incidents/"])
    params = {p["name"] for p in paths["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"state", "severity", "warning_level", "response_level", "section", "q", "page"} <= params
    params = {p["name"] for p in paths["/api/v1/deadlines/"]["get"]["parameters"]}
    assert {"state", "owner", "kind", "overdue"} <= params
    assert "tokenAuth" in doc["components"]["securitySchemes"]


def resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_schema_documents_each_actions_own_payload(demo):
    doc = openapi(logged_in(demo))
    judge = resolve(doc, doc["paths"]["/api/v1/incidents/{id}/judge/"]["post"]["requestBody"]["content"]
                    ["application/json"]["schema"])
    assert {"veracity", "severity", "analysis"} <= set(judge["properties"])
    assert {"veracity", "severity"} <= set(judge["required"])
    warn = resolve(doc, doc["paths"]["/api/v1/incidents/{id}/warn/"]["post"]["requestBody"]["content"]
                   ["application/json"]["schema"])
    assert {"level", "subject", "scope", "matters", "measures", "delivery"} <= set(warn["required"])
    assign = resolve(doc, doc["paths"]["/api/v1/incidents/{id}/assign/"]["post"]["requestBody"]["content"]
                     ["application/json"]["schema"])
    assert set(assign["properties"]) == {"sections"}
    answer = doc["paths"]["/api/v1/incidents/{id}/judge/"]["post"]["responses"]["200"]
    assert "title" in resolve(doc, answer["content"]["application/json"]["schema"])["properties"]


def test_the_docs_page_loads_every_asset_from_this_server(demo):
    client = APIClient()
    client.force_login(demo["auditor"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "an external asset"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not shipped"
    assert "/api/schema/" in html
