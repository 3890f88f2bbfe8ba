"""The case (R10–R14, R50–R54): intake, judgment, sources, spread, attachments, timeline."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class Channel(models.TextChoices):
    MONITORING = "monitoring", _("软件监看发现")
    HIGHER_ALERT = "higher_alert", _("上级网信部门提示")
    PUBLIC_REPORT = "public_report", _("社会舆情上报")


class Platform(models.TextChoices):
    NEWS = "news", _("新闻网站")
    FORUM = "forum", _("论坛/贴吧")
    WEIBO = "weibo", _("微博")
    WECHAT = "wechat", _("微信")
    VIDEO = "video", _("短视频")
    QQ = "qq", _("QQ")
    OTHER = "other", _("其他")


class Veracity(models.TextChoices):
    TRUE = "true", _("真消息")
    FALSE = "false", _("假消息")
    UNVERIFIED = "unverified", _("待核实")


class Severity(models.TextChoices):
    MINOR = "minor", _("小微舆情")
    MEDIUM = "medium", _("中级舆情")
    MAJOR = "major", _("重大舆情")


class State(models.TextChoices):
    REPORTED = "reported", _("已登记")
    JUDGING = "judging", _("研判处置中")
    WATCHING = "watching", _("关注")
    WARNED = "warned", _("已预警")
    RESPONDING = "responding", _("应急响应中")
    AFTERMATH = "aftermath", _("善后")
    CLOSED = "closed", _("已办结")


OPEN_STATES = [s for s in State.values if s != State.CLOSED]
# Before a warning or a response: where judgment decides what happens next.
PRE_HANDLING = [State.REPORTED, State.JUDGING, State.WATCHING]


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(state=State.CLOSED)



class Incident(ConcurrentTransitionMixin, models.Model):
    title = models.CharField(_("标题"), max_length=200)
    summary = models.TextField(_("摘要"))
    channel = models.CharField(_("发现渠道"), max_length=20, choices=Channel.choices)
    discovered_at = models.DateTimeField(_("发现时间"))
    reported_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("登记人"))
    keywords = models.CharField(_("关键词"), max_length=300, blank=True)
    related_groups = models.TextField(_("相关群体"), blank=True)
    background = models.TextField(_("背景"), blank=True)
    key_contradiction = models.TextField(_("突出矛盾"), blank=True)
    netizen_concerns = models.TextField(_("网民关切"), blank=True)
    classified = models.BooleanField(_("涉密"), default=False)

    state = FSMField(_("状态"), default=State.REPORTED, choices=State.choices, protected=True)
    veracity = models.CharField(_("真实性"), max_length=12, choices=Veracity.choices, blank=True)
    severity = models.CharField(_("舆情等级"), max_length=8, choices=Severity.choices, blank=True)
    judged_at = models.DateTimeField(_("研判时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The history the list keeps (issue 15): the highest levels ever reached (I = 1 is the
    # highest), kept by the services that issue a warning or approve a response.
    highest_warning_level = models.PositiveSmallIntegerField(_("最高预警级别"), null=True, blank=True)
    highest_response_level = models.PositiveSmallIntegerField(_("最高响应级别"), null=True, blank=True)

    sections = models.ManyToManyField("organization.Section", through="Assignment",
                                      related_name="incidents", verbose_name=_("责任股室"))

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("舆情事件")
        verbose_name_plural = _("舆情事件")
        # A state's incidents newest first, the id beside (the list's order; a filtered list's
        # count reads them from the index alone: ?state=responding&section=petition's capped
        # count 15 → 7 ms at 100,000 incidents).
        indexes = [models.Index(fields=["state", "-reported_at", "-id"], name="incident_state_newest"),
                   models.Index(fields=["-reported_at", "-id"], name="incident_newest_first"),
                   # The open incidents (the dashboard's counts, every "open only" list).
                   models.Index(fields=["-reported_at"], name="incident_open",
                                condition=~models.Q(state="closed")),
                   # 待研判 (selectors.awaiting_judgment): the few open incidents not yet judged,
                   # oldest first, and their count, without reading every open incident.
                   models.Index(fields=["reported_at", "id"], name="incident_awaiting_judgment",
                                condition=models.Q(judged_at__isnull=True) & ~models.Q(state="closed"))]
        permissions = [("handle_incident", _("处置舆情事件（提交报告、签收、起草口径）"))]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    # --- transitions: state only; services do the rest -------------------------------
    @transition(field=state, source=[State.REPORTED], target=State.JUDGING)
    def start_handling(self):
        """Sections are assigned or the incident is judged to need handling."""

    @transition(field=state, source=PRE_HANDLING, target=State.WATCHING)
    def watch(self):
        """Judged minor (小微): watch only, no handling (R14)."""

    @transition(field=state, source=[State.WATCHING], target=State.JUDGING)
    def escalate(self):
        """Re-judged medium or major."""

    @transition(field=state, source=PRE_HANDLING, target=State.WARNED)
    def warn(self):
        """A warning notice is issued (R20–R22)."""

    @transition(field=state, source=PRE_HANDLING + [State.WARNED], target=State.RESPONDING)
    def respond(self):
        """The level's body approved a response (R30)."""

    @transition(field=state, source=[State.WARNED, State.RESPONDING], target=State.AFTERMATH)
    def settle(self):
        """The response was lifted, or the warning lifted without a response (R50)."""

    @transition(field=state, source=[State.WATCHING, State.AFTERMATH], target=State.CLOSED)
    def close(self):
        """Closed: minor incidents from watching; handled ones with the summary report."""

    @transition(field=state, source=[State.WATCHING, State.AFTERMATH, State.CLOSED],
                target=State.RESPONDING)
    def recur_responding(self):
        """Recurrence re-activates the last response at once (R22, R32, R50)."""

    @transition(field=state, source=[State.WATCHING, State.AFTERMATH, State.CLOSED], target=State.WARNED)
    def recur_warned(self):
        """Recurrence re-issues the lifted warning (R22)."""

    @transition(field=state, source=[State.AFTERMATH, State.CLOSED], target=State.JUDGING)
    def recur_judging(self):
        """Recurrence with nothing to re-activate: judge again."""


class Assignment(models.Model):
    """A responsible section (R2) on an incident; its members get per-object permissions."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(_("指派时间"), auto_now_add=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "section"], name="uniq_assignment")]
        # Visibility for a section's members: "is this incident assigned to one of mine?"
        indexes = [models.Index(fields=["section", "incident"], name="assignment_section_incident")]
        verbose_name = _("责任股室指派")
        verbose_name_plural = _("责任股室指派")


def validate_http_url(value):
    URLValidator(schemes=["http", "https"], message=_("请输入以 http:// 或 https:// 开头的有效网址。"))(value)


class Source(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(_("链接"), max_length=1000, validators=[validate_http_url])
    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    mainstream_first = models.BooleanField(_("主流新闻媒体首发"), default=False)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        verbose_name = _("信息来源")
        verbose_name_plural = _("信息来源")


class SpreadFigure(models.Model):
    """Spread over time (R11): one reading per platform and moment."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="spread")
    recorded_at = models.DateTimeField(_("统计时间"))
    platform = models.CharField(_("平台"), max_length=10, choices=Platform.choices)
    posts = models.PositiveIntegerField(_("帖文数"), default=0)
    views = models.PositiveBigIntegerField(_("阅读/播放量"), default=0)
    comments = models.PositiveIntegerField(_("评论数"), default=0)
    shares = models.PositiveIntegerField(_("转发数"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("传播数据")
        verbose_name_plural = _("传播数据")


class Judgment(models.Model):
    """One 研判 (R13), kept in history; the incident holds the latest veracity/severity."""

    class Mode(models.TextChoices):
        JOINT = "joint", _("指挥小组与责任股室联合研判")
        INTERNAL = "internal", _("局内部研判")
        SECTION = "section", _("责任股室自身研判")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="judgments")
    mode = models.CharField(_("研判方式"), max_length=10, choices=Mode.choices, default=Mode.JOINT)
    veracity = models.CharField(_("真实性"), max_length=12, choices=Veracity.choices)
    severity = models.CharField(_("舆情等级"), max_length=8, choices=Severity.choices, blank=True,
                                help_text=_("只有舆情信息指挥小组的研判定级；股室自身研判不定级。"))
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("研判股室"),
                                help_text=_("股室自身研判（R13）：该股室；指挥小组研判为空。"))
    participants = models.JSONField(_("参与研判人员"), default=list, blank=True,
                                    help_text=_("联合研判的参与人员（用户名），登记时核对。"))
    analysis = models.TextField(_("研判分析"), blank=True)
    trend = models.TextField(_("发展走势"), blank=True)
    recommended_warning_level = models.PositiveSmallIntegerField(_("建议预警级别"), null=True, blank=True)
    recommended_response_level = models.PositiveSmallIntegerField(_("建议响应级别"), null=True, blank=True)
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    judged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["judged_at", "id"]
        verbose_name = _("研判")
        verbose_name_plural = _("研判")


def attachment_path(instance, filename):
    return f"attachments/{instance.incident_id}/{filename}"


class Attachment(models.Model):
    """Text, image, audio, video (R53); served only through a permission-checked view."""

    class Kind(models.TextChoices):
        TEXT = "text", _("文本")
        IMAGE = "image", _("图片")
        AUDIO = "audio", _("音频")
        VIDEO = "video", _("视频")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("timeline events cannot be changed")

    def delete(self):
        raise PermissionDenied("timeline events cannot be deleted")


class TimelineEvent(models.Model):
    """The append-only record (R41, R53). Nobody can change or delete an event: not through
    the application, and on PostgreSQL not by SQL either (a trigger, see the migration)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              related_name="+", verbose_name=_("操作人"))
    # The hash chain (incidents/timeline.py): position in the incident's record and
    # SHA-256(previous event's hash + this event's content).
    seq = models.PositiveIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    verb = models.CharField(_("动作"), max_length=40)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    before = models.CharField(_("之前状态"), max_length=20, blank=True)
    after = models.CharField(_("之后状态"), max_length=20, blank=True)
    reason = models.TextField(_("理由"), blank=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "seq"], name="uniq_timeline_seq")]
        verbose_name = _("处置记录")
        verbose_name_plural = _("处置记录")
        indexes = [models.Index(fields=["incident", "-at", "-id"], name="timeline_incident_latest")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("timeline events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("timeline events cannot be deleted")


# django-guardian with direct foreign keys (fast joins, no generic relations).
class IncidentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)


class IncidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Incident, on_delete=models.CASCADE)



class SearchToken(models.Model):
    """The keyword index (incidents/search.py): a character unigram or bigram of one of the
    incident's texts. The primary key (token, incident) is the index searches use."""

    pk = models.CompositePrimaryKey("token", "incident")
    token = models.CharField(max_length=2)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("检索词元")
        verbose_name_plural = _("检索词元")


class ClassifiedAccess(models.Model):
    """R54: who opened a classified incident's content, when, and how. Append-only."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="classified_accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    via = models.CharField(_("途径"), max_length=40)
    content_shown = models.BooleanField(_("内容可见"))

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("涉密事件访问记录")
        verbose_name_plural = _("涉密事件访问记录")


class IncidentCount(models.Model):
    """How many incidents there are (issue 12): the API's exact ``count`` for whoever sees every
    incident, read from one row instead of 100,000 (``incidents/counted.py``). Derived data, on
    PostgreSQL only: written by ``incidents.counted.compact`` (the beat's ``compact-tallies``),
    which folds ``IncidentCountDelta`` into its one row (id 1); the migration that made it
    (0013_incident_count) counted the rows already there. SQLite counts the rows (no triggers)."""

    n = models.BigIntegerField(default=0)

    def __str__(self):
        return str(self.n)


class IncidentCountDelta(models.Model):
    """Insert-only: what each statement on ``incidents_incident`` changed the count by (+n rows
    inserted, -n deleted), written by database triggers (migration 0013_incident_count), so every
    writer is counted — the services, bulk inserts, COPY, deletes — and concurrent writers never
    share a row (one counter row updated by every writer would serialise them). A TRUNCATE of
    the incidents empties this log and the count; ``flush`` truncates them with the incidents."""

    n = models.BigIntegerField()

    def __str__(self):
        return f"{self.n:+d}"
