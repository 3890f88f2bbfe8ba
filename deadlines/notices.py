"""The one notice service: event → who is told → what they read (issue 10).

Every notice of the case that belongs to no deadline goes through ``tell``: an in-app
Notification for each person concerned, and the outbox (deadlines/delivery.py sends it) — an
e-mail to each of them who has an address, and one message to the group robot (WeCom,
DingTalk with its signing secret) of each section or body concerned. Written in the caller's
transaction, so a notice exists exactly when its event does. A classified incident's content
never leaves the system (R54): a placeholder title, no body, in the app and outside it.

A notice that asks for a decision carries ``awaits`` (``proposal:<id>``, ``lift:<id>``,
``statement:<id>``); ``decided`` marks it done — and read — for everyone it went to.

| event                | who is told                                   | asks a decision |
|----------------------|-----------------------------------------------|-----------------|
| logged               | command group; leadership for a major one     |                 |
| judged_major         | leadership (舆情快报 due)                       |                 |
| warning_issued       | the sections that must sign                   |                 |
| warning_adjusted     | the sections that must sign                   |                 |
| warning_lifted       | the sections that must sign                   |                 |
| proposal_made        | the deciding body                             | yes             |
| proposal_approved    | the proposer and the command group            |                 |
| proposal_rejected    | the proposer and the command group            |                 |
| proposal_withdrawn   | the deciding body                             |                 |
| lift_proposed        | the body of the running level                 | yes             |
| lift_approved        | the proposer and the command group            |                 |
| lift_rejected        | the proposer and the command group            |                 |
| stable_days          | the body of the running level, command group  |                 |
| response_activated   | the assigned sections                         |                 |
| response_raised      | the assigned sections                         |                 |
| response_lowered     | the assigned sections                         |                 |
| response_lifted      | the assigned sections                         |                 |
| closed, reopened     | the assigned sections                         |                 |
| statement_submitted  | the command group                             | yes             |
| statement_approved   | the drafting section                          |                 |
| statement_rejected   | the drafting section                          |                 |
| report_to_leadership | leadership (舆情快报, 报告领导)                  |                 |
| consultation_convened| the participants and their sections           |                 |
| order_issued         | the ordered section (工作指令)                  |                 |
| order_completed      | the command group and the convener            |                 |
| deadline_waived      | the section that owed the waived deadline     |                 |
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organization.models import Role, SectionMembership, User
from organization.selectors import command_body, deciding_body

from .models import Delivery, Notification


@dataclass(frozen=True)
class Notice:
    title: str  # a lazy msgid, formatted with the event's parameters and ``title``
    who: tuple[str, ...]
    decision: bool = False


SECTIONS, COMMAND, LEADERSHIP, MAJOR_LEADERSHIP, BODY, PROPOSER, PEOPLE = (
    "sections", "command", "leadership", "leadership if major", "body", "proposer", "people")

NOTICES = {
    "logged": Notice(gettext_lazy("【新登记】舆情待研判：%(title)s"), (COMMAND, MAJOR_LEADERSHIP)),
    "judged_major": Notice(gettext_lazy("【重大舆情】请于 %(due)s 前报送舆情快报：%(title)s"), (LEADERSHIP,)),
    "warning_issued": Notice(gettext_lazy("【预警通知】%(level)s级预警，请签收并在规定时间内核实报告：%(title)s"),
                             (SECTIONS,)),
    "warning_adjusted": Notice(gettext_lazy("【预警调整】预警调整为%(level)s级，请签收并在规定时间内核实报告：%(title)s"),
                               (SECTIONS,)),
    "warning_lifted": Notice(gettext_lazy("【预警解除】%(level)s级预警已解除，请签收：%(title)s"), (SECTIONS,)),
    "proposal_made": Notice(gettext_lazy("【待审批】%(level)s级应急响应提议：%(title)s"), (BODY,), decision=True),
    "proposal_approved": Notice(gettext_lazy("【已批准】%(level)s级应急响应提议已批准：%(title)s"), (PROPOSER, COMMAND)),
    "proposal_rejected": Notice(gettext_lazy("【已驳回】%(level)s级应急响应提议被驳回：%(title)s"), (PROPOSER, COMMAND)),
    "proposal_withdrawn": Notice(gettext_lazy("【已撤回】%(level)s级应急响应提议已撤回：%(title)s"), (BODY,)),
    "lift_proposed": Notice(gettext_lazy("【待审批】解除%(level)s级应急响应：%(title)s"), (BODY,), decision=True),
    "lift_approved": Notice(gettext_lazy("【已批准】解除%(level)s级应急响应已批准：%(title)s"), (PROPOSER, COMMAND)),
    "lift_rejected": Notice(gettext_lazy("【已驳回】解除%(level)s级应急响应被驳回：%(title)s"), (PROPOSER, COMMAND)),
    "stable_days": Notice(gettext_lazy("【可解除】%(level)s级应急响应已连续 %(n)s 个工作日平稳，请研究解除或降级：%(title)s"),
                          (BODY, COMMAND)),
    "response_activated": Notice(gettext_lazy("【启动响应】%(level)s级应急响应已启动，请按时专报（含零报告）：%(title)s"),
                                 (SECTIONS,)),
    "response_raised": Notice(gettext_lazy("【响应升级】应急响应调整为%(level)s级：%(title)s"), (SECTIONS,)),
    "response_lowered": Notice(gettext_lazy("【响应降级】应急响应调整为%(level)s级：%(title)s"), (SECTIONS,)),
    "response_lifted": Notice(gettext_lazy("【解除响应】%(level)s级应急响应已解除：%(title)s"), (SECTIONS,)),
    "closed": Notice(gettext_lazy("【办结】事件已办结：%(title)s"), (SECTIONS,)),
    "reopened": Notice(gettext_lazy("【舆情反复】事件已重新启动：%(title)s"), (SECTIONS,)),
    "statement_submitted": Notice(gettext_lazy("【待审核】%(section)s报送了口径或声明“%(statement)s”：%(title)s"),
                                  (COMMAND,), decision=True),
    "statement_approved": Notice(gettext_lazy("【已审定】口径或声明“%(statement)s”已审定：%(title)s"), (SECTIONS,)),
    "statement_rejected": Notice(gettext_lazy("【已退回】口径或声明“%(statement)s”被退回：%(title)s"), (SECTIONS,)),
    "report_to_leadership": Notice(gettext_lazy("【%(kind)s】%(title)s"), (LEADERSHIP,)),
    "consultation_convened": Notice(gettext_lazy("【会商】请参加会商“%(agenda)s”：%(title)s"), (PEOPLE, SECTIONS)),
    "order_issued": Notice(gettext_lazy("【工作指令】请于 %(due)s 前完成：%(order)s（%(title)s）"), (SECTIONS,)),
    "order_completed": Notice(gettext_lazy("【指令完成】%(section)s已完成工作指令：%(order)s（%(title)s）"),
                              (COMMAND, PEOPLE)),
    "deadline_waived": Notice(gettext_lazy("【已豁免】%(kind)s期限已由指挥小组豁免：%(title)s"), (SECTIONS,)),
}


def _audience(who, incident, *, sections, body_level, proposer, people_told=()) -> tuple[list[int], list[tuple[str, str]]]:
    """The people (user ids, in order, once each) and the group robots ((code, url)) told."""
    people, robots = [], []
    for audience in who:
        if audience == SECTIONS:
            rows = list(incident.sections.all()) if sections is None else list(sections)
            people += SectionMembership.objects.filter(section__in=rows, user__is_active=True).values_list(
                "user_id", flat=True)
            robots += [(s.code, s.webhook_url) for s in rows if s.webhook_url]
        elif audience in (COMMAND, BODY):
            body = command_body() if audience == COMMAND else deciding_body(body_level)
            if body is not None:
                people += body.members.filter(is_active=True).values_list("pk", flat=True)
                robots += [(body.code, body.webhook_url)] if body.webhook_url else []
        elif audience == LEADERSHIP or (audience == MAJOR_LEADERSHIP and incident.severity == "major"):
            people += User.objects.filter(groups__name=Role.LEADERSHIP, is_active=True).values_list("pk", flat=True)
        elif audience == PROPOSER and proposer is not None:
            people.append(proposer.pk)
        elif audience == PEOPLE:
            people += [user.pk for user in people_told if user.is_active]
    return list(dict.fromkeys(people)), list(dict.fromkeys(robots))


def tell(event: str, *, incident, sections=None, body_level=None, proposer=None, people=(), awaits: str = "",
         body: str = "", **params) -> int:
    """Tell everyone concerned by ``event`` (the table above), in the app and through the
    outbox. ``sections`` narrows SECTIONS (default: the incident's assigned sections);
    ``body_level`` names the BODY (the level it decides); ``people`` are the PEOPLE told by name (a consultation's participants);
    ``params`` fill the title. Returns the number of people told."""
    notice = NOTICES[event]
    people, robots = _audience(notice.who, incident, sections=sections, body_level=body_level, proposer=proposer,
                               people_told=people)
    with translation.override(settings.LANGUAGE_CODE):  # what others read: the unit's language
        if incident.classified:
            title, body = _("您有一项涉密事件 #%(id)s 的新事项，请登录系统查看。") % {"id": incident.pk}, ""
        else:
            title = str(notice.title) % {"title": incident.title, **params}
    link = f"/incidents/{incident.pk}/"
    rows = Notification.objects.bulk_create([
        Notification(recipient_id=uid, incident=incident, title=title[:300], body=body, link=link, event=event,
                     awaits=awaits if notice.decision else "") for uid in people])
    now, url = timezone.now(), settings.SITE_URL.rstrip("/") + link
    emails = dict(User.objects.filter(pk__in=people, is_active=True).exclude(email="").values_list("pk", "email"))
    outbox = [Delivery(key=f"notice:{n.pk}:email", channel=Delivery.Channel.EMAIL, target=emails[n.recipient_id],
                       subject=title[:300], text=f"{body}\n\n{url}".lstrip(), notification=n, next_attempt_at=now)
              for n in rows if n.recipient_id in emails]
    once = uuid.uuid4().hex
    outbox += [Delivery(key=f"notice:{event}:{incident.pk}:{code}:{once}", channel=Delivery.Channel.WEBHOOK,
                        target=robot, subject=title[:300], text=f"{title}\n{url}", next_attempt_at=now)
               for code, robot in robots]
    Delivery.objects.bulk_create(outbox)
    return len(rows)


def decided(awaits: str) -> int:
    """The decision a notice asked for is made: done, and read, for everyone it went to."""
    now = timezone.now()
    return Notification.objects.filter(awaits=awaits, done_at__isnull=True).update(
        done_at=now, read_at=Coalesce("read_at", Value(now)))
