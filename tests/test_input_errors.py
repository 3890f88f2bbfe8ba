"""Issue 14, "no 500, and errors on the contract": every input the probe answered with a 500 or
an off-contract body now answers 400 (403 for CSRF) with API.md's ``{field: [message]}`` or
``{detail}`` in the request's language, and nothing is written."""

import datetime as dt
import json
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents.models import Incident, SpreadFigure

from .api import SHANGHAI, Api

URL = "/api/v1/incidents/"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def api(demo, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return Api(demo)


def post_raw(api, body: bytes | str, lang="zh-hans", user="duty", url=URL):
    return api.client(user, lang).generic("POST", url, body, content_type="application/json")


def payload(**fields):
    return {"title": "业主维权帖文", "summary": "交房延期", "channel": "monitoring",
            "discovered_at": dt.datetime.now(SHANGHAI).isoformat(), **fields}


def test_malformed_deep_null_and_non_object_json_answer_400_detail_in_the_callers_language(api):
    deep = "[" * 5000 + "]" * 5000
    for body, lang, expected in [
        ("{not json", "zh-hans", "请求体不是有效的 JSON。"),
        ("{not json", "en", "The request body is not valid JSON."),
        (deep, "zh-hans", "请求体不是有效的 JSON。"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "en", "The request body is not valid JSON."),
        ('{"title": NaN}', "zh-hans", "请求体不是有效的 JSON。"),
        ("null", "zh-hans", "请求体须是一个 JSON 对象（{…}）。"),
        ("[1, 2]", "en", "The request body must be a JSON object ({…})."),
    ]:
        response = post_raw(api, body, lang)
        assert response.status_code == 400, body[:20]
        assert response.json() == {"detail": expected}
    incident = api.log()
    assert post_raw(api, "null", user="command", url=f"{URL}{incident['id']}/judge/").json() == {
        "detail": "请求体须是一个 JSON 对象（{…}）。"}
    assert Incident.objects.count() == 1


def test_a_datetime_without_offset_is_refused_and_year_one_is_out_of_range(api):
    cases = {
        "0001-01-01T00:00:00": "日期时间须带时区偏移，例如 2026-11-23T09:00:00+08:00。",
        "2026-11-23T09:00:00": "日期时间须带时区偏移，例如 2026-11-23T09:00:00+08:00。",
        "2026-11-23": "日期时间须带时区偏移，例如 2026-11-23T09:00:00+08:00。",
        "0001-01-01T00:00:00+08:00": "日期须在 2000-01-01 至 2099-12-31 之间。",
        "9999-12-31T23:59:59Z": "日期须在 2000-01-01 至 2099-12-31 之间。",
    }
    for value, message in cases.items():
        response = api.client("duty").post(URL, payload(discovered_at=value), format="json")
        assert response.status_code == 400, value
        assert response.json() == {"discovered_at": [message]}, value
    english = api.client("duty", "en").post(URL, payload(discovered_at="2026-11-23T09:00"), format="json")
    assert "offset" in english.json()["discovered_at"][0]
    assert Incident.objects.count() == 0
    assert api.client("duty").post(URL, payload(discovered_at="2026-11-23T09:00:00+08:00"),
                                   format="json").status_code == 201


def test_the_pages_read_datetime_inputs_as_shanghai_and_refuse_year_one(api, demo):
    web = Client()
    web.force_login(demo["duty"])
    form = {"title": "业主维权帖文", "summary": "交房延期", "channel": "monitoring"}
    page = web.post("/incidents/new/", {**form, "discovered_at": "0001-01-01T00:00"})
    assert page.status_code == 200 and "日期须在 2000-01-01 至 2099-12-31 之间。" in page.content.decode()
    assert Incident.objects.count() == 0
    page = web.post("/incidents/new/", {**form, "discovered_at": "2026-11-23T09:00"})
    assert page.status_code == 302
    assert Incident.objects.get().discovered_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    incident = Incident.objects.get()
    web.force_login(demo["command"])
    page = web.post(f"/incidents/{incident.pk}/act/record-spread/", {"platform": "weibo",
                                                                    "recorded_at": "0001-01-01T00:00", "posts": "1"})
    assert page.status_code == 200 and "日期须在 2000-01-01 至 2099-12-31 之间。" in page.content.decode()
    assert SpreadFigure.objects.count() == 0


def test_spread_figures_beyond_the_column_and_ids_beyond_bigint_are_400(api):
    incident = api.log(sections=["petition"])
    too_big = api.act("command", incident["id"], "record-spread", expect=400, platform="weibo", views=2**31)
    assert list(too_big) == ["views"] and CJK.search(too_big["views"][0])
    api.act("command", incident["id"], "record-spread", platform="weibo", views=2**31 - 1)
    sign = api.act("petition", incident["id"], "sign", expect=400, notice=2**64, section="petition")
    assert list(sign) == ["notice"]


def test_accountability_refuses_dates_out_of_range_in_api_and_page(api, demo):
    refused = api.get("command", "/api/v1/accountability/", to="9999-12-31")
    assert refused.status_code == 400 and refused.json() == {"to": ["日期须在 2000-01-01 至 2099-12-31 之间。"]}
    english = api.client("command", "en").get("/api/v1/accountability/", {"from": "0001-01-01"})
    assert english.status_code == 400 and "between" in english.json()["from"][0]
    web = Client()
    web.force_login(demo["command"])
    page = web.get("/accountability/", {"to": "9999-12-31"})
    assert page.status_code == 200 and "日期须在 2000-01-01 至 2099-12-31 之间。" in page.content.decode()


def test_a_missing_csrf_token_is_403_detail_in_the_language_and_a_page_in_chinese(demo):
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(demo["duty"])
    refused = client.post(URL, payload(), format="json")
    assert refused.status_code == 403 and refused.json() == {"detail": "CSRF 校验失败：请刷新页面后重试。"}
    page = Client(enforce_csrf_checks=True)
    page.force_login(demo["duty"])
    response = page.post("/incidents/new/", payload())
    assert response.status_code == 403 and "CSRF 校验失败" in response.content.decode()
    assert Incident.objects.count() == 0


def test_a_body_over_the_size_limit_is_400_detail(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = json.dumps(payload(summary="长" * (1024 * 1024)))
    response = post_raw(api, big)
    assert response.status_code == 400 and response.json() == {"detail": "请求体超过大小上限（1 MB）。"}
    form = api.client("duty", "en").post(URL, {"title": "x" * (2 * 1024 * 1024)})
    assert form.status_code == 400 and form.json() == {"detail": "The request body exceeds the size limit (1 MB)."}
    assert Incident.objects.count() == 0
