"""A living demo (issue 15): a dozen realistic incidents in every stage, placed relative to
today, written THROUGH the actions' one path (``actions.run``: payload serializer, role check,
service) exactly as the pages and the API would, with the clock moved back to when each step
happened (time-machine), so that every deadline, notice and timeline entry is true.

Run by ``seed_demo --with-cases`` (which ``make run`` uses) through the command
``seed_demo_cases``; it adds cases only to a database that has none."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.sweep import process_deadlines
from incidents.models import Incident
from organization.calendar import is_workday
from organization.models import User
from responses.models import Consultation

from .actions import ACTIONS, run
from .payloads import IncidentCreateSerializer
from .services import incident_create

TZ = ZoneInfo(settings.TIME_ZONE)
KEPT_UP = ["status", "briefing", "judgment", "flash", "feedback"]
MEMBER = {"market": "market", "petition": "petition", "info": "infohead", "office": "command2"}


def workdays_back(today: dt.date, n: int) -> list[dt.date]:
    """The ``n`` working days before ``today`` (today excluded), oldest first."""
    out, day = [], today
    while len(out) < n:
        day -= dt.timedelta(days=1)
        if is_workday(day):
            out.append(day)
    return out[::-1]


class Story:
    """One case told step by step; ``at`` moves the clock to when the next step happens."""

    def __init__(self, users, clock, latest):
        self.users, self.clock, self.pk, self.latest = users, clock, None, latest

    def at(self, moment: dt.datetime):
        self.clock.move_to(moment)
        return self

    def log(self, by="duty", *, title, summary, discovered, platform="weibo", url, **fields):
        payload = IncidentCreateSerializer(data={
            "title": title, "summary": summary, "channel": fields.pop("channel", "monitoring"),
            "discovered_at": discovered.isoformat(), "sources": [{"url": url, "platform": platform}], **fields})
        payload.is_valid(raise_exception=True)
        self.pk = incident_create(actor=self.users[by], **payload.validated_data).pk
        return self

    def act(self, by, action, **data):
        run(ACTIONS[action], Incident.objects.get(pk=self.pk), self.users[by], data)
        return self

    def sweep(self):
        process_deadlines()
        return self

    def keep_up(self, until: dt.datetime, *, skip=None):
        """Meet every reporting duty of the case falling due before ``until``, each a quarter
        of an hour before its due time, as a diligent unit would — except the slot ``skip``
        picks, which is left to be missed (the sweep marks it at its due time)."""
        left = None  # the slot left to be missed
        for _guard in range(300):
            due = (Deadline.objects.filter(incident_id=self.pk, state=DeadlineState.OPEN, kind__in=KEPT_UP,
                                           due_at__lte=until).exclude(pk=getattr(left, "pk", None))
                   .select_related("owner_section").order_by("due_at", "id").first())
            if left is not None and (due is None or due.due_at > left.due_at):
                self.at(left.due_at + dt.timedelta(minutes=1)).sweep()  # the others of its time are met
                left = None
                continue
            if due is None:
                break
            if skip is not None and skip(due):
                left, skip = due, None
                continue
            # a quarter of an hour early, but never after the real time the demo is written
            self.at(max(timezone.now(), min(due.due_at - dt.timedelta(minutes=15), self.latest)))
            section = due.owner_section.code if due.owner_section_id else None
            body = {"status": "专报：今日舆情平稳，相关工作按计划推进。", "briefing": "报告领导：处置进展顺利。",
                    "judgment": "综合研判：热度回落，未见新的扩散点。"}.get(due.kind, "按要求报送。")
            self.act(MEMBER.get(section, "command"), "report", kind=due.kind, section=section, body=body)
        return self.at(max(timezone.now(), min(until, self.latest)))

    # The steps most cases share -----------------------------------------------------------
    def judge(self, *, severity="major", sections=("petition",), warning=None, response=None, analysis=""):
        self.act("command", "assign", sections=list(sections))
        self.act("command", "judge", veracity="true", severity=severity,
                 analysis=analysis or "诉求集中，存在扩散风险，需责任股室核实。",
                 recommended_warning_level=warning, recommended_response_level=response)
        if severity == "major":  # a major incident calls for a consultation (R14, R35)
            self.consult(sections[0])
        return self

    def consult(self, section):
        """The consultation a major judgment calls for, within the hour: convened, its minutes
        recorded with one work order to ``section``, which that section carries out."""
        self.act("command", "convene", agenda="研判处置措施，统一对外口径", participants=[section],
                 outside=["市网信办"])
        consultation = Consultation.objects.filter(incident_id=self.pk).latest("convened_at", "id")
        due = timezone.now() + dt.timedelta(hours=4)
        self.act("command", "record-consultation", consultation=consultation.pk,
                 minutes="会同市网信办研判：统一口径，责任股室当日核实并回应网民关切。",
                 decisions=[{"text": "当日核实情况并回应网民关切", "section": section, "due_at": due.isoformat()},
                            {"text": "指挥小组统一对外口径"}])
        order = consultation.decisions.filter(section__isnull=False).get()
        return self.act(section, "complete-order", order=order.pk, note="已核实并在平台回应。")

    def warn(self, level, *, subject, matters, measures="核实情况，统一口径，及时回应网民关切"):
        return self.act("command", "warn", level=level, subject=subject, scope="全市", matters=matters,
                        measures=measures, delivery="system")

    def notice(self):
        return Incident.objects.select_related("warning").get(pk=self.pk).warning.current_id

    def sign_and_verify(self, section="petition", by="petition", text="已核实，情况基本属实，已约谈相关单位。"):
        self.act(by, "sign", notice=self.notice(), section=section)
        return self.act(by, "report", kind="verification", section=section, body=text)

    def reports(self):
        self.act("command", "report", kind="flash", body="舆情快报：相关帖文阅读量持续上升，已安排核实。")
        self.act("command", "report", kind="feedback", body="书面反馈：已按要求核实并作出回应，舆情趋稳。")
        self.act("command", "report", kind="briefing", body="报告领导：事件处置进展顺利，已统一对外口径。")
        return self.act("command", "report", kind="judgment", body="综合研判：热度下降，未见新的扩散点。")


def seed_cases(stdout=None) -> int:
    """Write the demo cases (only into a database without incidents); returns how many."""
    if Incident.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.all()}
    now = timezone.localtime()
    today = now.date()
    days = workdays_back(today, 8)  # the last eight working days, oldest first

    def on(day, hh, mm=0):
        return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=TZ)

    clock_setting = settings.DEADLINE_CLOCK
    settings.DEADLINE_CLOCK = "application"  # the sweeps below run on the moved clock
    traveller = time_machine.travel(on(days[0], 8), tick=False)
    clock = traveller.start()
    made = []
    try:
        with transaction.atomic():
            made += _closed_cases(users, clock, days, on, now)
            made += _lift_cases(users, clock, days, on, now)
            made += _responding_cases(users, clock, days, on, now)
            made += _open_cases(users, clock, days, on, now)
    finally:
        traveller.stop()
        settings.DEADLINE_CLOCK = clock_setting
    process_deadlines()  # now, on the real clock: what fell due meanwhile is missed
    return len(made)


def _summary(story):
    return story.act("command", "report", kind="summary", characteristics="集中爆发，迅速回落",
                     measures_effect="及时核实回应，效果良好", experience="快速联动，口径统一",
                     problems="首报偏慢", recommendations="加强夜间监看")


def _closed_cases(users, clock, days, on, now):
    """Two closed cases (a level IV response lifted after its stable days, a warning only) and
    one in its aftermath, its 舆情分析专题报告 still owed."""
    a = Story(users, clock, now - dt.timedelta(minutes=1)).at(on(days[0], 9))
    a.log(title="某小区业主集中反映交房延期", summary="多名业主在贴吧发帖称小区交房延期，帖文被大量转发。",
          discovered=on(days[0], 8, 40), platform="forum", url="https://tieba.example.com/p/8848")
    a.judge(severity="major", sections=("market",), warning=4, response=4)
    a.warn(4, subject="某小区业主", matters="交房延期引发集中投诉")
    a.sign_and_verify(section="market", by="market", text="已核实：开发商承认延期，已承诺月底交房。")
    a.reports()
    a.act("command", "propose-response", level=4, reason="传播范围扩大，需现场工作组介入")
    a.act("onsite", "approve-response")
    a.act("market", "report", kind="status", section="market", body="专报：开发商已出具书面交房计划。")
    for day in days[1:4]:
        a.at(on(day, 18)).act("command", "assess", date=day.isoformat(), stable=True, note="舆情平稳，无新增帖文")
    a.act("command", "propose-lift", reason="连续三个工作日平稳")
    a.act("onsite", "approve-lift")
    a.act("command", "lift-warning", reason="响应已解除，舆情平息")
    _summary(a).act("command", "close")

    b = Story(users, clock, now - dt.timedelta(minutes=1)).at(on(days[1], 10))
    b.log(title="网传某菜市场商户缺斤少两", summary="短视频称某菜市场多名商户缺斤少两，评论区有网民附和。",
          discovered=on(days[1], 9, 35), platform="video", url="https://douyin.example.com/v/5521")
    b.judge(severity="minor", sections=("petition",), warning=4)
    b.warn(4, subject="某菜市场商户", matters="计量问题引发投诉")
    b.sign_and_verify(text="已核实：市场监管部门已抽检，个别商户已整改。")
    b.reports()
    b.act("command", "lift-warning", reason="已整改并公开回应，舆情平息")
    _summary(b).act("command", "close")

    c = Story(users, clock, now - dt.timedelta(minutes=1)).at(on(days[2], 14))
    c.log(title="某商场促销活动虚假宣传被投诉", summary="消费者在微博投诉商场促销“先涨后降”，话题登上本地热搜。",
          discovered=on(days[2], 13, 30), url="https://weibo.example.com/3300/87")
    c.judge(severity="major", sections=("market",), warning=4, response=4)
    c.warn(4, subject="某商场消费者", matters="促销价格宣传")
    c.sign_and_verify(section="market", by="market", text="已核实：商场已下架相关宣传并承诺退差价。")
    c.reports()
    c.act("command", "propose-response", level=4, reason="登上本地热搜")
    c.act("onsite", "approve-response")
    for day in days[3:6]:
        c.keep_up(on(day, 17, 50)).act("command", "assess", date=day.isoformat(), stable=True, note="热度回落")
    c.act("command", "propose-lift", reason="连续三个工作日平稳").act("onsite", "approve-lift")
    c.act("command", "lift-warning", reason="舆情平息")  # 善后: the 专题报告 is still owed
    return [a.pk, b.pk, c.pk]


def _lift_cases(users, clock, days, on, now):
    """A level III response whose stable days are all recorded and whose lift the level III
    body can approve at once; a level III response one stable day short of it."""
    c = Story(users, clock, now - dt.timedelta(minutes=1)).at(on(days[4], 9, 30))
    c.log(title="某学校食堂饭菜质量问题引发家长关注", summary="家长群截图在微博流传，称学校食堂饭菜质量差。",
          discovered=on(days[4], 9), url="https://weibo.example.com/1024/771")
    c.judge(severity="major", sections=("petition",), warning=3, response=3)
    c.warn(3, subject="学生家长", matters="食堂饭菜质量")
    c.sign_and_verify(text="已核实：食堂已更换供货商，教育部门已约谈校方。")
    c.act("command", "propose-response", level=3, reason="家长群持续转发，本地媒体跟进")
    c.act("infohead", "approve-response")
    for day in days[5:8]:
        c.keep_up(on(day, 17, 30)).act("command", "assess", date=day.isoformat(), stable=True, note="无新增热帖")
    c.act("command", "propose-lift", reason="连续三个工作日平稳，建议解除Ⅲ级响应")
    c.keep_up(now + dt.timedelta(minutes=30))

    d = Story(users, clock, now - dt.timedelta(minutes=1)).at(on(days[5], 11))
    d.log(title="某路段施工噪音扰民投诉集中", summary="多名市民在政务留言板投诉夜间施工噪音。",
          discovered=on(days[5], 10, 20), platform="other", url="https://liuyan.example.com/t/3391")
    d.judge(severity="medium", sections=("market",), warning=3, response=3)
    d.warn(3, subject="周边居民", matters="夜间施工噪音")
    d.sign_and_verify(section="market", by="market", text="已核实：施工单位已调整作业时间。")
    d.act("command", "propose-response", level=3, reason="投诉量上升")
    d.act("infohead", "approve-response")
    for day in days[6:8]:
        d.keep_up(on(day, 17, 40)).act("command", "assess", date=day.isoformat(), stable=True, note="投诉减少")
    d.keep_up(now + dt.timedelta(minutes=30))
    return [c.pk, d.pk]


def _responding_cases(users, clock, days, on, now):
    """A level II response with status reports and a missed slot; a level II proposal that
    waits for the leader."""
    e = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(hours=20))
    e.log(title="网传某楼盘资金链断裂、业主担忧烂尾", summary="自媒体文章称某楼盘资金链断裂，业主群情绪激动，多平台转载。",
          discovered=now - dt.timedelta(hours=20, minutes=30), platform="wechat", url="https://mp.example.com/s/Xk29")
    e.judge(severity="major", sections=("market", "petition"), warning=2, response=2,
            analysis="涉及众多购房者切身利益，存在线下聚集风险。")
    e.warn(2, subject="某楼盘购房者", matters="资金链传闻引发业主担忧")
    e.sign_and_verify(section="market", by="market", text="已核实：项目资金监管账户正常，传闻不实。")
    e.sign_and_verify(text="已核实：业主群情绪激动，已安排专人答复。")
    e.act("command", "report", kind="flash", body="舆情快报：传闻在多个业主群扩散。")
    e.act("command", "propose-response", level=2, reason="多平台转载，存在线下聚集风险")
    e.at(now - dt.timedelta(hours=19)).act("leader", "approve-response")
    # The sections report each slot, except one of the petition section's, which is missed.
    e.keep_up(now + dt.timedelta(minutes=30),
              skip=lambda d: d.kind == "status" and d.owner_section.code == "petition" and d.due_at > now - dt.timedelta(hours=12))

    f = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(hours=3))
    f.log(title="某景区游客滞留排队数小时", summary="游客发布视频称景区索道排队数小时、工作人员态度差。",
          discovered=now - dt.timedelta(hours=3, minutes=25), platform="video", url="https://douyin.example.com/v/9073")
    f.judge(severity="major", sections=("petition",), warning=3, response=2)
    f.warn(3, subject="景区游客", matters="滞留排队与服务态度")
    f.sign_and_verify(text="已核实：景区已增开索道班次并公开致歉。")
    f.act("command", "report", kind="flash", body="舆情快报：视频播放量快速上升。")
    f.at(now - dt.timedelta(hours=1)).act("command", "propose-response", level=2, reason="视频播放量快速上升")
    return [e.pk, f.pk]


def _open_cases(users, clock, days, on, now):
    """Cases in their first hours: warned and waiting to be signed, judged, just logged."""
    g = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(hours=2, minutes=30))
    g.log(title="某小区物业费上涨引发业主不满", summary="业主在小区群和微博反映物业费上涨未经业主大会表决。",
          discovered=now - dt.timedelta(hours=2, minutes=50), url="https://weibo.example.com/2048/115")
    g.judge(severity="medium", sections=("petition",), warning=4)
    g.warn(4, subject="小区业主", matters="物业费调整程序")

    h = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(hours=5))
    h.log(title="某公交线路调整引发通勤者吐槽", summary="网民在本地论坛吐槽公交线路调整后通勤时间变长。",
          discovered=now - dt.timedelta(hours=5, minutes=20), platform="forum", url="https://bbs.example.com/t/6610")
    h.act("command", "assign", sections=["petition"])
    h.act("command", "judge", veracity="true", severity="medium", analysis="一般性民生诉求，持续关注。")

    i = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(minutes=40))
    i.log(title="网传某医院门诊收费异常", summary="网民称在某医院门诊被重复收费，帖文评论较多。",
          discovered=now - dt.timedelta(minutes=55), url="https://weibo.example.com/4096/2201")
    j = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(hours=4))
    j.log(title="某街道积水严重居民出行不便", summary="暴雨后某街道积水，居民在短视频平台发布视频。",
          discovered=now - dt.timedelta(hours=5, minutes=30), platform="video", url="https://douyin.example.com/v/1180")
    k = Story(users, clock, now - dt.timedelta(minutes=1)).at(now - dt.timedelta(minutes=15))
    k.log(title="某培训机构停业学员退费难", summary="多名学员家长在社交平台反映培训机构突然停业，退费无门。",
          discovered=now - dt.timedelta(minutes=25), platform="wechat", url="https://mp.example.com/s/Qa71")
    return [g.pk, h.pk, i.pk, j.pk, k.pk]
