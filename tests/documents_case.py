"""A closed case that has every kind of document: the fixture of the documents tests."""

from django.core.files.uploadedfile import SimpleUploadedFile

from .api import Api, local

# The warning is still in force when the response is lifted: it is lifted as the case closes.
CLOSE = {"lift_warning_reason": "舆情平息，解除预警。"}


def closed_case(users, time_machine, *, classified=False, close=True) -> int:
    api = Api(users)
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log(discovered_at=local(2026, 11, 2, 8, 40).isoformat(), classified=classified,
                  title="某小区业主在贴吧集中反映交房延期")["id"]
    api.act("command", iid, "assign", sections=["petition"])
    upload = SimpleUploadedFile("现场情况说明.txt", "现场情况说明：业主聚集。".encode(), content_type="text/plain")
    response = api.client("petition").post(f"/api/v1/incidents/{iid}/attachments/",
                                           {"file": upload, "note": "说明"}, format="multipart")
    assert response.status_code == 201, response.content
    api.act("command", iid, "judge", veracity="true", severity="major", analysis="业主集中维权，可能扩散",
            trend="一周内可能持续发酵", recommended_warning_level=3, recommended_response_level=4)
    api.act("command", iid, "convene", agenda="研究交房延期处置", participants=["petition"], outside=["市网信办"])
    inc = api.act("command", iid, "warn", level=4, subject="某小区业主", scope="全市房地产领域",
                  matters="交房延期引发集中投诉", measures="核实情况，统一口径", delivery="fax")
    api.act("petition", iid, "sign", notice=inc["warning"]["notice"], section="petition")
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实，情况属实。\n开发商已承诺月底交房。")
    api.act("command", iid, "report", kind="flash", body="舆情快报：业主在贴吧集中发帖，阅读量上升。")
    api.act("command", iid, "report", kind="feedback", body="已按要求核实并回应，舆情趋稳。")
    api.act("command", iid, "report", kind="briefing", body="向局领导报告：事件已得到控制。")
    api.act("command", iid, "report", kind="judgment", body="综合研判：舆情热度下降。")
    api.act("command", iid, "propose-response", level=4, reason="传播范围扩大")
    api.act("onsite", iid, "approve-response")
    api.act("petition", iid, "report", kind="status", section="petition", body="专报：开发商已出具交房计划。")
    for day in (3, 4, 5):
        time_machine.move_to(local(2026, 11, day, 18, 0), tick=False)
        api.act("command", iid, "assess", date=f"2026-11-0{day}", stable=True, note="舆情平稳")
    api.act("command", iid, "propose-lift", reason="连续平稳")
    api.act("onsite", iid, "approve-lift")
    api.act("command", iid, "report", kind="summary", characteristics="集中爆发，迅速回落",
            measures_effect="及时回应，效果良好", experience="快速核实", problems="首报偏慢",
            recommendations="加强监看")
    if close:
        api.act("command", iid, "close", **CLOSE)
    return iid
