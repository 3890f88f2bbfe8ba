"""What the pages call things: timeline verbs, confirmations, and the short description of a
timeline event's details."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from deadlines.models import Kind as DeadlineKind
from early_warnings.models import Delivery
from incidents.models import Channel, Platform, Severity, State, Veracity
from organization.models import ROMAN  # noqa: E402  (re-exported for the pages)
from responses.models import PublicityTier, ReportKind

VERBS = {
    "deadline_reminded": _l("期限提醒"),
    "deadline_urged": _l("催办"),
    "deadline_supervised": _l("督办"),
    "deadline_notified": _l("通报领导"),
    "deadline_missed": _l("期限已逾期"),
    "document_issued": _l("公文印发（编号）"),
    "archive_downloaded": _l("下载归档包"),
    "handling_started": _l("转入研判处置"),
    "response_reactivated": _l("应急响应重新启动"),
    "logged": _l("登记舆情"),
    "assigned": _l("指派责任股室"),
    "unassigned": _l("撤销责任股室"),
    "permission_granted": _l("责任股室开始办理"),
    "permission_revoked": _l("责任股室不再办理"),
    "judged": _l("研判"),
    "warning_issued": _l("发布预警"),
    "warning_adjusted": _l("调整预警级别"),
    "warning_lifted": _l("解除预警"),
    "warning_reissued": _l("重新发布预警"),
    "notice_signed": _l("签收预警通知"),
    "report_submitted": _l("提交报告"),
    "response_proposed": _l("提议应急响应级别"),
    "response_approved": _l("批准应急响应"),
    "response_rejected": _l("驳回应急响应提议"),
    "stability_assessed": _l("研判当日是否平稳"),
    "lift_proposed": _l("提议解除应急响应"),
    "lift_rejected": _l("驳回解除提议"),
    "response_lifted": _l("解除应急响应"),
    "closed": _l("办结"),
    "reopened": _l("舆情反复，重新启动"),
    "source_added": _l("补充信息来源"),
    "spread_recorded": _l("记录传播数据"),
    "attachment_added": _l("上传附件"),
    "support_requested": _l("请求扩大应急响应"),
    "support_answered": _l("记录支援答复"),
    "publicity_started": _l("开展宣传引导"),
    "statement_drafted": _l("起草口径/声明"),
    "statement_approved": _l("审定口径/声明"),
    "statement_rejected": _l("退回口径/声明"),
    "statement_released": _l("发布口径/声明"),
    "section_judged": _l("股室研判"),
    "obligations_lapsed": _l("期限因起因消失而取消"),
    "consultation_convened": _l("召集会商"),
    "consultation_recorded": _l("记录会商纪要"),
    "order_issued": _l("下达工作指令"),
    "order_completed": _l("工作指令完成"),
    "deadline_waived": _l("豁免期限"),
}

SUCCESS = {
    "assign": _l("已指派责任股室。"),
    "unassign": _l("已撤销责任股室。"),
    "judge": _l("研判结果已保存。"),
    "warn": _l("预警通知已发布。"),
    "lift-warning": _l("预警已解除。"),
    "propose-response": _l("应急响应级别提议已提交，等待相应机构审批。"),
    "approve-response": _l("已批准应急响应级别。"),
    "reject-response": _l("已驳回应急响应提议。"),
    "assess": _l("当日平稳研判已记录。"),
    "propose-lift": _l("解除应急响应的提议已提交，等待审批。"),
    "approve-lift": _l("已批准解除应急响应。"),
    "reject-lift": _l("已驳回解除提议。"),
    "report": _l("报告已提交。"),
    "close": _l("事件已办结。"),
    "reopen": _l("事件已重新启动。"),
    "sign": _l("已签收预警通知。"),
    "add-source": _l("信息来源已补充。"),
    "record-spread": _l("传播数据已记录。"),
    "request-support": _l("扩大应急响应请求已记录。"),
    "answer-support": _l("支援答复已记录。"),
    "publicity": _l("宣传引导已记录。"),
    "draft-statement": _l("稿件已提交审核。"),
    "approve-statement": _l("稿件已审定。"),
    "reject-statement": _l("稿件已退回。"),
    "release-statement": _l("稿件已发布。"),
    "attach": _l("附件已上传。"),
    "section-judgment": _l("股室研判意见已记录。"),
    "convene": _l("会商已召集，参会人员已收到通知。"),
    "record-consultation": _l("会商纪要已记录，工作指令已下达。"),
    "complete-order": _l("工作指令已办结。"),
    "waive": _l("期限已豁免，理由已记入处置记录。"),
}


def success_message(action: str, post=None) -> str:
    if action == "report" and post is not None and post.get("zero") in ("true", "on", "1"):
        return _("零报告已提交，专报计时已重新开始。")
    if action == "warn" and post is not None and post.get("_form") == "adjust":
        return _("预警级别已调整，新的预警通知已发布。")
    return str(SUCCESS.get(action, _("操作已完成。")))


def verb_label(verb: str) -> str:
    return str(VERBS.get(verb, verb))


def _choice(enum, value):
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def _level(value):
    return _("%(level)s级") % {"level": ROMAN.get(value, value)} if value else ""


# How each detail key of a timeline event reads; keys not listed are not shown.
DETAIL_KEYS = [
    ("level", _l("级别"), _level),
    ("from_level", _l("原级别"), _level),
    ("severity", _l("舆情等级"), lambda v: _choice(Severity, v)),
    ("veracity", _l("真实性"), lambda v: _choice(Veracity, v)),
    ("kind", _l("类别"), lambda v: _choice(ReportKind if v in ReportKind.values else DeadlineKind, v)),
    ("zero", _l("零报告"), lambda v: _("是") if v else ""),
    ("channel", _l("发现渠道"), lambda v: _choice(Channel, v)),
    ("platform", _l("平台"), lambda v: _choice(Platform, v)),
    ("delivery", _l("发布方式"), lambda v: _choice(Delivery, v)),
    ("tier", _l("宣传引导层级"), lambda v: _choice(PublicityTier, v)),
    ("date", _l("日期"), str),
    ("stable", _l("平稳"), lambda v: _("平稳") if v else _("不平稳")),
    ("stable_working_days", _l("连续平稳工作日"), str),
    ("subject", _l("舆情对象"), str),
    ("title", _l("标题"), str),
    ("name", _l("文件"), str),
    ("addressee", _l("请求对象"), str),
    ("comment", _l("批示意见"), str),
    ("participants", _l("参与人员"), lambda v: "、".join(map(str, v))),
    ("agenda", _l("会商议题"), str),
    ("outside", _l("外部参会单位"), lambda v: "、".join(v)),
    ("text", _l("决定事项"), str),
    ("deadline_state", _l("期限"), lambda v: {"met": _("按时完成"), "late": _("逾期完成")}.get(v, "") if v else ""),
]


def describe(event, section_names: dict) -> list[tuple[str, str]]:
    """The details of a timeline event worth reading, as (label, value) pairs."""
    detail = event.detail or {}
    pairs = []
    if "section" in detail and detail["section"]:
        pairs.append((_("股室"), section_names.get(detail["section"], detail["section"])))
    for key, label, fmt in DETAIL_KEYS:
        if key in detail and detail[key] not in (None, "", [], {}):
            text = fmt(detail[key])
            if text:
                pairs.append((str(label), text))
    if event.before and event.after and event.before != event.after:
        pairs.append((_("状态"), f"{_choice(State, event.before)} → {_choice(State, event.after)}"))
    return pairs
