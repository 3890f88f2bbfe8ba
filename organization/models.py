import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import CharField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sentiment_ops import prepared

from . import policy_defaults as seeds

# The plans write response and warning levels as Roman numerals: Ⅰ级 … Ⅳ级.
ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ"}


class Role(models.TextChoices):
    """Roles are Django groups with these names (R1–R6)."""

    DUTY_OFFICER = "duty_officer", _("值班监测员")
    SECTION_STAFF = "section_staff", _("股室工作人员")
    SECTION_HEAD = "section_head", _("股室负责人")
    COMMAND = "command_group", _("舆情信息指挥小组成员")
    LEADERSHIP = "leadership", _("领导小组")
    AUDITOR = "auditor", _("档案审计（只读）")
    ADMIN = "admin", _("系统管理员")


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    must_change_password = models.BooleanField(
        _("须修改密码"), default=False,
        help_text=_("使用一次性密码的新用户：登录后必须先修改密码才能使用系统。"))
    is_service_account = models.BooleanField(
        _("服务账号"), default=False,
        help_text=_("供监测软件等系统调用接口的账号：由管理员创建并签发长期令牌，不用于登录页面。"))

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.full_name or self.username

    def identity(self) -> list[tuple]:
        """The user's groups, sections and bodies as (kind, pk, code, name, rank, is_head) rows:
        ONE query (a UNION), cached on the object as long as it lives (a request's user). The
        roles and ``organization.selectors.units_of`` both read it, so a page that asks about
        both pays one query, not two. Its SQL is compiled once per process (sentiment_ops.prepared)."""
        if not hasattr(self, "_identity_rows"):
            rows = []
            if self.pk:
                rows = [(kind, pk, code, name, rank, bool(is_head)) for kind, pk, code, name, rank, is_head
                        in prepared.fetch(("organization.identity", self.pk), lambda _now: self._identity_query())]
            self._identity_rows = rows
        return self._identity_rows

    def _identity_query(self):
        text, number, flag = CharField(), models.IntegerField(), models.BooleanField()
        groups = User.groups.through.objects.filter(user_id=self.pk).order_by().values_list(
            Value("group", output_field=text), "group_id", "group__name", "group__name",
            Value(0, output_field=number), Value(False, output_field=flag))
        sections = SectionMembership.objects.filter(user_id=self.pk).order_by().values_list(
            Value("section", output_field=text), "section_id", "section__code", "section__name",
            "section__order", "is_head")
        bodies = BodyMembership.objects.filter(user_id=self.pk).order_by().values_list(
            Value("body", output_field=text), "body_id", "body__code", "body__name",
            # one row per level the body decides (R4: LevelPolicy.deciding_body), 0 for none
            Coalesce("body__deciding_levels__level", 0), Value(False, output_field=flag))
        return groups.union(sections, bodies, all=True)

    @property
    def roles(self) -> frozenset[str]:
        if not hasattr(self, "_roles_cache"):
            names = {name for kind, _pk, name, *_rest in self.identity() if kind == "group"}
            self._roles_cache = frozenset(r for r in Role.values if r in names)
        return self._roles_cache

    def has_role(self, role: str) -> bool:
        return role in self.roles


class Section(models.Model):
    """责任股室 / 责任部门 (R2). Each has a Django group for per-incident grants."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    webhook_url = models.URLField(_("群机器人 Webhook"), blank=True)
    webhook_secret = models.CharField(_("群机器人加签密钥"), max_length=200, blank=True,
                                      help_text=_("钉钉机器人“加签”安全设置的密钥（SEC 开头）；企业微信机器人留空。"))
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="section", editable=False)
    members = models.ManyToManyField(
        User, through="SectionMembership", related_name="sections", verbose_name=_("成员")
    )

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("股室")
        verbose_name_plural = _("股室")

    def __str__(self):
        return self.name

    @property
    def heads(self):
        return self.members.filter(section_memberships__section=self, section_memberships__is_head=True)


class SectionMembership(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="section_memberships")
    is_head = models.BooleanField(_("负责人"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["section", "user"], name="uniq_section_member")]
        verbose_name = _("股室成员")
        verbose_name_plural = _("股室成员")

    def __str__(self):
        return f"{self.section} · {self.user}"


class Body(models.Model):
    """Command group and the decision body of each response level (R3, R4)."""

    COMMAND = "command"  # the command group's code (R3): owner of the command group's deadlines

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    # Which response levels a body decides is the policy's: LevelPolicy.deciding_body (one body
    # may decide several levels, as plan 000's 领导小组 decides all four), read only through
    # organization.selectors.deciding_body / deciding_bodies.
    webhook_url = models.URLField(_("群机器人 Webhook"), blank=True)
    webhook_secret = models.CharField(_("群机器人加签密钥"), max_length=200, blank=True,
                                      help_text=_("钉钉机器人“加签”安全设置的密钥（SEC 开头）；企业微信机器人留空。"))
    members = models.ManyToManyField(User, through="BodyMembership", related_name="bodies", verbose_name=_("成员"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("决策指挥机构")
        verbose_name_plural = _("决策指挥机构")

    def __str__(self):
        return self.name


class BodyMembership(models.Model):
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="body_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["body", "user"], name="uniq_body_member")]
        verbose_name = _("机构成员")
        verbose_name_plural = _("机构成员")

    def __str__(self):
        return f"{self.body} · {self.user}"


# --- Policy -----------------------------------------------------------------------------

def parse_times(value: str) -> list[dt.time]:
    """'08:00,14:00' → [time(8), time(14)]; raises ValidationError on anything else."""
    out = []
    for part in (p.strip() for p in (value or "").split(",")):
        if not part:
            continue
        try:
            out.append(dt.datetime.strptime(part, "%H:%M").time())
        except ValueError:
            raise ValidationError(_("“%(value)s”不是有效的时刻，请按 HH:MM 填写，多个用逗号分隔。"),
                                  params={"value": part}) from None
    if len(set(out)) != len(out):
        raise ValidationError(_("时刻不能重复。"))
    return sorted(out)


def parse_minutes(value: str) -> list[int]:
    out = []
    for part in (p.strip() for p in (value or "").split(",")):
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise ValidationError(_("“%(value)s”不是正整数分钟数。"), params={"value": part})
        out.append(int(part))
    return sorted(set(out), reverse=True)


def validate_times(value):
    if not parse_times(value):
        raise ValidationError(_("至少填写一个时刻。"))


def validate_minutes(value):
    parse_minutes(value)


class UnitPolicy(models.Model):
    """One deployment serves one unit (局): its deadlines and escalation ladder (API.md)."""

    unit_name = models.CharField(_("单位名称"), max_length=100, default="包头市住房保障和房屋管理局")
    office_section = models.ForeignKey(
        Section, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("办公室（快报接收股室）"),
        help_text=_("R12：值班监测员 1 小时内报告的办公室，快报期限的责任方（预案 000 为党政办，002 为信息中心）。"))
    quick_report_minutes = models.PositiveIntegerField(
        _("快报时限（分钟）"), default=seeds.UNIT["quick_report_minutes"], validators=[MinValueValidator(1)],
        help_text=_("发现舆情后向办公室报告（1小时快报）的时限。"))
    flash_report_minutes = models.PositiveIntegerField(
        _("舆情快报时限（分钟）"), default=seeds.UNIT["flash_report_minutes"], validators=[MinValueValidator(1)],
        help_text=_("研判为重大舆情后形成舆情快报的时限。"))
    consultation_minutes = models.PositiveIntegerField(
        _("会商时限（分钟）"), default=seeds.UNIT["consultation_minutes"], validators=[MinValueValidator(1)],
        help_text=_("研判为重大舆情后召开会商的时限。"))
    feedback_hours = models.PositiveIntegerField(
        _("书面反馈时限（小时）"), default=seeds.UNIT["feedback_hours"], validators=[MinValueValidator(1)],
        help_text=_("中级及重大舆情收到提示后书面反馈的时限。"))
    feedback_hard_hours = models.PositiveIntegerField(
        _("书面反馈最迟时限（小时）"), default=seeds.UNIT["feedback_hard_hours"], validators=[MinValueValidator(1)])
    summary_working_days = models.PositiveIntegerField(
        _("专题报告时限（工作日）"), default=seeds.UNIT["summary_working_days"], validators=[MinValueValidator(1)],
        help_text=_("应急响应解除后形成舆情分析专题报告的工作日数。"))
    reminder_leads_minutes = models.CharField(
        _("到期前提醒（分钟）"), max_length=64, default=seeds.UNIT["reminder_leads_minutes"],
        validators=[validate_minutes], help_text=_("多个用逗号分隔，例如 30,5。"))
    urge_after_minutes = models.PositiveIntegerField(
        _("催办：到期后（分钟）"), default=seeds.UNIT["urge_after_minutes"])
    supervise_after_minutes = models.PositiveIntegerField(
        _("督办：到期后（分钟）"), default=seeds.UNIT["supervise_after_minutes"])
    notify_after_minutes = models.PositiveIntegerField(
        _("通报：到期后（分钟）"), default=seeds.UNIT["notify_after_minutes"])
    discovery_horizon_days = models.PositiveIntegerField(
        _("发现时间最早可追溯（天）"), default=seeds.UNIT["discovery_horizon_days"], validators=[MinValueValidator(1)],
        help_text=_("登记舆情时，发现时间不得早于登记时间之前的这一天数，也不得晚于当前时间。"))
    quiet_hours_enabled = models.BooleanField(_("启用免打扰时段"), default=False)
    quiet_start = models.TimeField(_("免打扰开始"), default=dt.time(22, 0))
    quiet_end = models.TimeField(_("免打扰结束"), default=dt.time(7, 0))

    class Meta:
        verbose_name = _("单位策略")
        verbose_name_plural = _("单位策略")

    def __str__(self):
        return self.unit_name

    def clean(self):
        errors = {}
        if self.feedback_hard_hours < self.feedback_hours:
            errors["feedback_hard_hours"] = _("最迟时限不能早于一般时限。")
        if not (self.urge_after_minutes <= self.supervise_after_minutes <= self.notify_after_minutes):
            errors["notify_after_minutes"] = _("催办、督办、通报的时间必须依次递增。")
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> "UnitPolicy":
        return cls.objects.order_by("pk").first() or cls()

    @property
    def reminder_leads(self) -> list[int]:
        return parse_minutes(self.reminder_leads_minutes)


class LevelPolicy(models.Model):
    """One row per response level: the columns of DOMAIN.md's response table."""

    level = models.PositiveSmallIntegerField(
        _("响应级别"), unique=True, validators=[MinValueValidator(1), MaxValueValidator(4)])
    deciding_body = models.ForeignKey(
        Body, on_delete=models.PROTECT, null=True, blank=True, related_name="deciding_levels",
        verbose_name=_("决策指挥机构"),
        help_text=_("R4：启动、调整和解除本级应急响应的机构；同一机构可决定多个级别。"))
    status_cadence_hours = models.PositiveIntegerField(
        _("专报间隔（小时）"), validators=[MinValueValidator(1)],
        help_text=_("应急响应期间各责任股室报送专报（含零报告）的间隔。"))
    judgment_times = models.CharField(
        _("每日研判时刻"), max_length=100, validators=[validate_times], help_text=_("例如 08:00,14:00,20:00。"))
    briefing_times = models.CharField(
        _("每日报告领导时刻"), max_length=100, validators=[validate_times])
    briefing_recipients = models.CharField(_("报告对象"), max_length=100, blank=True)
    verification_hours = models.PositiveIntegerField(
        _("预警后核实时限（小时）"), validators=[MinValueValidator(1)], help_text=_("预警发布后，责任股室核实情况并报告的时限。"))
    stable_working_days = models.PositiveIntegerField(
        _("解除所需连续平稳工作日"), validators=[MinValueValidator(1)], help_text=_("连续平稳达到该工作日数后，指挥小组可提议解除本级响应。"))

    class Meta:
        ordering = ["level"]
        verbose_name = _("分级响应策略")
        verbose_name_plural = _("分级响应策略")

    def __str__(self):
        return _("%(level)s级响应") % {"level": ROMAN[self.level]}

    @classmethod
    def for_level(cls, level: int) -> "LevelPolicy":
        row = cls.objects.filter(level=level).first()
        return row or cls(level=level, **seeds.LEVELS[level])

    @property
    def judgment_time_list(self):
        return parse_times(self.judgment_times)

    @property
    def briefing_time_list(self):
        return parse_times(self.briefing_times)


# --- Working-day calendar ---------------------------------------------------------------

class WorkCalendar(models.Model):
    """One row per date: is it a Chinese working day (R32)? Public holidays off, make-up
    weekends on. Imported from chinesecalendar; admins enter and confirm later years from the
    State Council's notice. A date without a confirmed row is provisional: the statutory rules
    decide it (organization/holidays.py, organization/calendar.py)."""

    class Source(models.TextChoices):
        PACKAGE = "chinesecalendar", _("chinesecalendar 数据包")
        ADMIN = "admin", _("管理员录入")
        DRAFT = "draft", _("按法定规则生成的草稿")

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    holiday_name = models.CharField(_("节假日"), max_length=64, blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    confirmed = models.BooleanField(_("已确认"), default=False)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")

    def __str__(self):
        kind = _("工作日") if self.is_workday else _("休息日")
        return f"{self.date:%Y-%m-%d} {kind}"


class CalendarConfirmation(models.Model):
    """An administrator confirmed a year's official schedule: who, when, from what, every
    difference from the statutory rules, and the reason for leaving a statutory holiday as a
    working day (refused without one)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    source_name = models.CharField(_("来源"), max_length=200, blank=True)
    source_text = models.TextField(_("录入内容"), blank=True)
    differences = models.JSONField(_("与法定规则的差异"), default=list, blank=True)
    overridden = models.JSONField(_("保留为工作日的法定节假日"), default=list, blank=True)
    override_reason = models.TextField(_("保留理由"), blank=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]
        verbose_name = _("工作日历确认记录")
        verbose_name_plural = _("工作日历确认记录")

    def __str__(self):
        return f"{self.year} @ {self.confirmed_at:%Y-%m-%d %H:%M}"
