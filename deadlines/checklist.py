"""The first-run checklist on the admin home (issue 16): what a unit must have before its first
incident, each item red or green with a link to where it is fixed. Read-only; the only writes
it leads to are the test messages (``services.delivery_test``, through the outbox) and the
demo-password check (``organization.demo.demo_password_scan``).

It lives in ``deadlines`` because it reads the outbox (a channel is tested when a test message
was sent through it); everything else it reads is ``organization``'s.
"""

import dataclasses

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from organization.calendar import year_confirmed
from organization.demo import demo_password_status
from organization.models import ROMAN, Body, BodyMembership, Role, Section, UnitPolicy, User
from organization.selectors import deciding_bodies

from .models import Delivery

LEVELS = (1, 2, 3, 4)
TEST_KEY = "test"  # Delivery.key prefix of a test message: test:<channel>:<unit or user>:<nonce>


@dataclasses.dataclass
class Item:
    key: str
    ok: bool
    title: str
    detail: str
    url: str
    link: str


@dataclasses.dataclass
class Channel:
    """A channel the unit sends through: the e-mail, or a section's or body's group robot."""

    channel: str  # Delivery.Channel
    code: str  # the unit's code, "" for e-mail
    name: str
    target: str
    tested: bool


def channels(user) -> list[Channel]:
    """E-mail (to ``user``'s own address) and every group robot configured, with whether a
    test message through it was sent."""
    sent = Delivery.objects.filter(state=Delivery.State.SENT, key__startswith=f"{TEST_KEY}:")
    out = [Channel(Delivery.Channel.EMAIL, "", str(_("电子邮件")), user.email,
                   sent.filter(channel=Delivery.Channel.EMAIL).exists())]
    robots = [*Section.objects.exclude(webhook_url="").values_list("code", "name", "webhook_url"),
              *Body.objects.exclude(webhook_url="").values_list("code", "name", "webhook_url")]
    tested = set(sent.filter(channel=Delivery.Channel.WEBHOOK).values_list("target", flat=True))
    out += [Channel(Delivery.Channel.WEBHOOK, code, name, url, url in tested) for code, name, url in robots]
    return out


def without_outside_member(deciding) -> list[int]:
    """The levels whose deciding body has no active member outside the command group (a
    proposal by the command group could then only be approved by a proposer's colleague in the
    group, or by nobody: four eyes need someone else)."""
    outside = BodyMembership.objects.filter(body=OuterRef("pk"), user__is_active=True).exclude(
        user__in=User.objects.filter(Q(groups__name=Role.COMMAND) | Q(bodies__code=Body.COMMAND)))
    ok = set(Body.objects.filter(pk__in=[b.pk for b in deciding.values()]).filter(Exists(outside))
             .values_list("pk", flat=True))
    return [level for level, body in sorted(deciding.items()) if body.pk not in ok]


def checklist(user) -> list[Item]:
    """The items, in the order an administrator works through them."""
    admin = "admin:"
    unit = UnitPolicy.current()
    deciding = deciding_bodies()
    items = [Item(
        "unit", bool(unit.pk and unit.unit_name.strip() and unit.office_section_id),
        _("单位已命名并按预案设置"),
        _("%(name)s；办公室：%(office)s") % {"name": unit.unit_name or "—",
                                           "office": unit.office_section.name if unit.office_section_id else "—"},
        reverse(f"{admin}organization_unitpolicy_setup"), _("按预案设置单位"))]
    sections, bodies = Section.objects.count(), Body.objects.exclude(code=Body.COMMAND).count()
    items.append(Item(
        "structure", bool(sections and bodies and Body.objects.filter(code=Body.COMMAND).exists()),
        _("股室和决策指挥机构已建立"),
        _("%(sections)s 个股室，%(bodies)s 个决策指挥机构（另有舆情信息指挥小组）") % {"sections": sections, "bodies": bodies},
        reverse(f"{admin}organization_user_workbook"), _("从 Excel 导入组织机构")))
    missing = [level for level in LEVELS if level not in deciding]
    items.append(Item(
        "levels", not missing, _("每个响应级别都有决策指挥机构"),
        _("未设置：%(levels)s") % {"levels": "、".join(f"{ROMAN[n]}级" for n in missing)} if missing else
        "；".join(f"{ROMAN[n]}级：{deciding[n].name}" for n in LEVELS),
        reverse(f"{admin}organization_levelpolicy_changelist"), _("分级响应策略")))
    alone = without_outside_member(deciding)
    items.append(Item(
        "four_eyes", not missing and not alone, _("各级决策指挥机构都有指挥小组以外的成员（双人审批）"),
        _("仅有指挥小组成员：%(levels)s") % {"levels": "、".join(f"{ROMAN[n]}级（{deciding[n].name}）" for n in alone)}
        if alone else (_("各级均可由提议人以外的机构成员审批") if not missing else _("先为每个级别设置决策指挥机构")),
        reverse(f"{admin}organization_body_change", args=[deciding[alone[0]].pk]) if alone
        else reverse(f"{admin}organization_body_changelist"), _("决策指挥机构成员")))
    found = channels(user)
    untested = [c.name for c in found if not c.tested]
    items.append(Item(
        "channels", not untested and len(found) > 1, _("电子邮件和群机器人已测试"),
        _("未测试：%(names)s") % {"names": "、".join(untested)} if untested else
        (_("尚未配置群机器人") if len(found) == 1 else _("全部发送成功")),
        "#channels", _("发送测试消息")))
    year = timezone.localdate().year + 1
    confirmed = year_confirmed(year)
    items.append(Item(
        "calendar", confirmed, _("下一年度工作日历已确认"),
        _("%(year)s 年：%(state)s") % {"year": year, "state": _("已确认") if confirmed else _("暂定")},
        reverse(f"{admin}organization_workcalendar_official"), _("录入官方安排")))
    demo, unknown = demo_password_status(User.objects.filter(is_active=True).only("username", "password"))
    parts = ([_("仍使用演示密码：%(users)s") % {"users": "、".join(demo)}] if demo else []) + (
        [_("%(n)s 个账号尚未检查") % {"n": unknown}] if unknown else [])
    items.append(Item(
        "demo_password", not demo and not unknown, _("没有人使用演示密码"),
        "；".join(parts) or _("已检查全部账号"),
        reverse(f"{admin}organization_user_changelist"), _("用户")))
    return items
