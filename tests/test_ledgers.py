"""台账 in Excel: one row per incident or deadline the caller may see, filters as in API.md,
a frozen header, widths and real dates; read back with openpyxl."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from .api import Api, local


@pytest.fixture
def desk(demo, time_machine, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    api = Api(demo)
    ids = {}
    for name, section in (("petition", "petition"), ("market", "market")):
        iid = api.log(title=f"{name}的舆情", discovered_at=local(2026, 11, 2, 8, 30).isoformat())["id"]
        api.act("command", iid, "assign", sections=[section])
        ids[name] = iid
    api.act("command", ids["petition"], "judge", veracity="true", severity="major", analysis="集中维权")
    api.act("command", ids["petition"], "warn", level=3, subject="业主", scope="全市", matters="延期",
            measures="核实", delivery="fax")
    time_machine.move_to(local(2026, 11, 4, 9, 0), tick=False)
    ids["secret"] = api.log("command2", title="涉密的舆情", classified=True)["id"]
    return api, ids


def book(api, user, path, **params):
    response = api.get(user, f"/api/v1/ledger/{path}", **params)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="' in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows(sheet):
    return list(sheet.iter_rows(min_row=2, values_only=True))


@pytest.mark.django_db
def test_the_command_group_gets_every_incident_with_levels_and_real_dates(desk):
    api, ids = desk
    wb = book(api, "command", "incidents.xlsx")
    ws = wb.active
    assert ws.title == "舆情事件台账"
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]][:4] == ["编号", "标题", "发现渠道", "发现时间"]
    assert ws.column_dimensions["B"].width >= 40
    by_id = {r[0]: r for r in rows(ws)}
    assert set(by_id) == set(ids.values())
    petition = by_id[ids["petition"]]
    assert petition[1] == "petition的舆情"
    assert petition[3] == dt.datetime(2026, 11, 2, 8, 30)  # a date cell, local time
    assert ws.cell(row=2, column=4).number_format == "yyyy-mm-dd hh:mm"
    assert petition[5] == "重大舆情" and petition[7].startswith("Ⅲ级") and petition[9] == "信访科"
    assert petition[10] == "已预警" and petition[12] == 2  # days open
    assert by_id[ids["secret"]][1] == "涉密的舆情"  # the command group reads classified content


@pytest.mark.django_db
def test_a_section_gets_only_its_own_rows_and_filters_apply(desk):
    api, ids = desk
    ws = book(api, "petition", "incidents.xlsx").active
    assert [r[0] for r in rows(ws)] == [ids["petition"]]
    ws = book(api, "command", "incidents.xlsx", section="market").active
    assert [r[0] for r in rows(ws)] == [ids["market"]]
    ws = book(api, "command", "incidents.xlsx", **{"from": "2026-11-03", "to": "2026-11-30"}).active
    assert [r[0] for r in rows(ws)] == [ids["secret"]]
    ws = book(api, "command", "incidents.xlsx", state="warned").active
    assert [r[0] for r in rows(ws)] == [ids["petition"]]
    auditor = {r[0]: r[1] for r in rows(book(api, "auditor", "incidents.xlsx").active)}
    assert auditor[ids["secret"]] == f"【涉密】舆情事件 #{ids['secret']}"  # R54
    assert api.get("command", "/api/v1/ledger/incidents.xlsx", **{"from": "2026-13-01"}).status_code == 400


@pytest.mark.django_db
def test_deadlines_ledger_for_a_section_and_for_the_command_group(desk):
    api, ids = desk
    petition = book(api, "petition", "deadlines.xlsx")
    owners = {r[1] for r in rows(petition["报送期限台账"])}
    assert owners == {"信访科"}
    assert {r[0] for r in rows(petition["报送期限台账"])} == {ids["petition"]}
    figures = {r[0]: r for r in rows(petition["问责统计"])}
    assert "信访科" in figures and "房地产市场科" not in figures
    command = book(api, "command", "deadlines.xlsx")
    all_rows = rows(command["报送期限台账"])
    assert {"信访科", "信息中心"} <= {r[1] for r in all_rows}
    assert all(isinstance(r[3], dt.datetime) for r in all_rows)
    assert command["报送期限台账"].freeze_panes == "A2"
    only = rows(book(api, "command", "deadlines.xlsx", owner="petition", state="open")["报送期限台账"])
    assert only and {(r[1], r[6]) for r in only} == {("信访科", "待办")}


@pytest.mark.django_db
def test_the_ledger_reads_in_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    api, ids = desk
    client = api.client("command")
    with django_assert_max_num_queries(8) as few:
        b"".join(client.get("/api/v1/ledger/incidents.xlsx").streaming_content)
    queries = len(few.captured_queries)  # read now: the next request resets the query log
    for _ in range(5):
        api.act("command", api.log()["id"], "assign", sections=["petition", "market"])
    with django_assert_max_num_queries(queries):
        b"".join(client.get("/api/v1/ledger/incidents.xlsx").streaming_content)
