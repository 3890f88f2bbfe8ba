"""What each document says, taken from the record (nothing typed twice): the title, the
addressee, the paragraphs and the dates of a flash report, a warning notice, a verification
report, a status report, a written feedback, a briefing, a judgment or a summary report."""

from django.utils import timezone
from django.utils.translation import gettext as _
from docxtpl import RichText

from early_warnings.models import WarningNotice
from incidents.models import Judgment

from .layout import HEITI, XIAOBIAOSONG
from .models import BULLETIN_KINDS, UPWARD_KINDS, DocumentKind


def chinese_date(moment) -> str:
    """成文日期 in Arabic numerals, the year in full: 2026年12月1日."""
    day = timezone.localtime(moment).date()
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def chinese_time(moment) -> str:
    local = timezone.localtime(moment)
    return _("%(date)s%(h)d时%(m)02d分") % {"date": chinese_date(local), "h": local.hour, "m": local.minute}


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def heading(text: str) -> RichText:
    """一级标题 in 黑体."""
    return RichText(text, font=f"eastAsia:{HEITI}")


def plain(text: str) -> RichText:
    return RichText(text)


def labelled(label: str, text: str) -> RichText:
    """"一、预警级别：" in 黑体 followed by the value in the body font, one paragraph."""
    rich = RichText()
    rich.add(label, font=f"eastAsia:{HEITI}")
    rich.add(text)
    return rich


def letterhead(text: str) -> RichText:
    """The red 发文机关标志 in 小标宋, as large as fits one line of the 156 mm text block
    (at most 36 pt, GB/T 9704 7.2.3)."""
    size_pt = min(36, int(156 / 25.4 * 72 / max(len(text), 1) * 0.96))
    return RichText(text, font=f"eastAsia:{XIAOBIAOSONG}", size=size_pt * 2, color="E60012")


def moment(item):
    if isinstance(item, WarningNotice):
        return item.issued_at
    if isinstance(item, Judgment):
        return item.judged_at
    return item.submitted_at


def compose(*, incident, kind: str, item, issued, policy, unit_name: str) -> dict:
    """The docxtpl context of one document."""
    date_text = chinese_date(moment(item))
    bulletin = kind in BULLETIN_KINDS
    title, addressee, paragraphs, signature = _BODY[kind](incident, item, policy, unit_name)
    number = _("%(prefix)s〔%(year)d〕%(n)d号") % {"prefix": policy.number_prefix, "year": issued.year,
                                                   "n": issued.number}
    return {
        "classified": incident.classified,
        "copy_no": f"{issued.pk:06d}",
        "secrecy_mark": policy.secrecy_mark,
        "letterhead": letterhead(policy.letterhead),
        "bulletin": bulletin,
        "bulletin_title": DocumentKind(kind).label,
        "issue_label": _("第%(n)d期") % {"n": issued.number},
        "bulletin_unit": policy.bulletin_unit,
        "doc_number": "" if bulletin else number,
        "upward": kind in UPWARD_KINDS,
        "signer": policy.signer or (issued.issued_by.get_full_name() or issued.issued_by.username
                                    if issued.issued_by_id else ""),
        "title": title,
        "addressee": addressee,
        "paragraphs": paragraphs,
        "signature_unit": signature,
        "date_text": date_text,
        "distribution": (_("报：%(to)s") % {"to": policy.addressee_up} if bulletin
                         else _("%(unit)s　　%(date)s印发") % {"unit": unit_name, "date": date_text}),
        "incident": incident,
        "item": item,
    }


def _facts(incident) -> RichText:
    return plain(_("%(at)s，%(channel)s：%(summary)s") % {
        "at": chinese_time(incident.discovered_at),
        "channel": incident.get_channel_display(), "summary": incident.summary})


def _about(incident, what: str) -> str:
    return _("关于“%(title)s”的%(what)s") % {"title": incident.title, "what": what}


def _report_paragraphs(report) -> list:
    if report.zero:
        return [plain(_("本时段无新情况（零报告）。"))]
    return [plain(t) for t in lines(report.body)]


def _flash(incident, report, policy, unit):
    paras = [heading(_("一、基本情况")), _facts(incident)]
    if incident.severity:
        paras.append(plain(_("研判：%(veracity)s，%(severity)s。") % {
            "veracity": incident.get_veracity_display(), "severity": incident.get_severity_display()}))
    paras += [heading(_("二、快报内容"))] + _report_paragraphs(report)
    return incident.title, "", paras, policy.bulletin_unit


def _status(incident, report, policy, unit):
    who = report.section.name if report.section else policy.bulletin_unit
    paras = [plain(_("报送单位：%(who)s；报送时间：%(at)s。") % {
        "who": who, "at": chinese_time(report.submitted_at)})]
    return _about(incident, _("处置进展")), "", paras + _report_paragraphs(report), policy.bulletin_unit


def _warning(incident, notice, policy, unit):
    sections = "、".join(r.section.name for r in notice.receipts.all())
    fields = [
        (_("预警级别"), notice.get_level_display()),
        (_("舆情对象"), notice.subject),
        (_("起始时间"), chinese_time(notice.start_at)),
        (_("可能影响范围"), notice.scope),
        (_("预警事项"), notice.matters),
        (_("应采取的措施"), notice.measures),
        (_("发布机关"), notice.issuing_body),
    ]
    numerals = "一二三四五六七八九十"
    paras = [plain(_("根据舆情研判，现%(kind)s预警如下：") % {"kind": notice.get_kind_display()})]
    for n, (label, value) in enumerate(fields):
        paras.append(labelled(f"{numerals[n]}、{label}：", value))
    paras.append(plain(_("发布方式：%(delivery)s。请各责任股室及时签收并核实情况。") % {
        "delivery": notice.get_delivery_display()}))
    if notice.reason:
        paras.append(plain(_("理由：%(reason)s") % {"reason": notice.reason}))
    title = _("%(title)s舆情预警通知单") % {"title": incident.title}
    return title, sections, paras, notice.issuing_body


def _verification(incident, report, policy, unit):
    who = report.section.name if report.section else unit
    return (_about(incident, _("核查报告")), _("局舆情信息指挥小组"),
            [_facts(incident), heading(_("核查情况"))] + _report_paragraphs(report), who)


def _feedback(incident, report, policy, unit):
    return (_about(incident, _("处置情况的书面反馈")), policy.addressee_up,
            [_facts(incident), heading(_("处置情况"))] + _report_paragraphs(report), unit)


def _briefing(incident, report, policy, unit):
    return (_about(incident, _("情况报告")), _("局领导"),
            [heading(_("一、基本情况")), _facts(incident), heading(_("二、报告事项"))]
            + _report_paragraphs(report), unit)


def _judgment(incident, item, policy, unit):
    if isinstance(item, Judgment):
        paras = [_facts(incident), heading(_("一、研判结论")),
                 plain(_("%(veracity)s；%(severity)s。") % {
                     "veracity": item.get_veracity_display(), "severity": item.get_severity_display()})]
        if item.analysis:
            paras += [heading(_("二、研判分析"))] + [plain(t) for t in lines(item.analysis)]
        if item.trend:
            paras += [heading(_("三、发展走势"))] + [plain(t) for t in lines(item.trend)]
        if item.recommended_warning_level or item.recommended_response_level:
            paras += [heading(_("四、处置建议")), plain(_("建议预警级别：%(w)s；建议响应级别：%(r)s。") % {
                "w": item.recommended_warning_level or "—", "r": item.recommended_response_level or "—"})]
    else:
        paras = [heading(_("一、基本情况")), _facts(incident), heading(_("二、研判意见"))] + _report_paragraphs(item)
    return _about(incident, _("研判意见")), _("局领导"), paras, unit


def _summary(incident, report, policy, unit):
    parts = [
        (_("一、舆情发展特点"), report.characteristics),
        (_("二、应对措施及效果"), report.measures_effect),
        (_("三、取得的经验"), report.experience),
        (_("四、存在的问题"), report.problems),
        (_("五、对策建议"), report.recommendations),
    ]
    paras = [_facts(incident)]
    for label, text in parts:
        paras += [heading(label)] + [plain(t) for t in lines(text) or ["—"]]
    return _about(incident, _("舆情分析专题报告")), policy.addressee_up, paras, unit


_BODY = {
    DocumentKind.FLASH: _flash,
    DocumentKind.WARNING: _warning,
    DocumentKind.VERIFICATION: _verification,
    DocumentKind.STATUS: _status,
    DocumentKind.FEEDBACK: _feedback,
    DocumentKind.BRIEFING: _briefing,
    DocumentKind.JUDGMENT: _judgment,
    DocumentKind.SUMMARY: _summary,
}
