"""Response by level (R30–R34), reports (R31, R51) and public material (R34, R52)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class ResponseState(models.TextChoices):
    PROPOSED = "proposed", _("待审批")
    ACTIVE = "active", _("响应中")
    LIFT_PROPOSED = "lift_proposed", _("待审批解除")
    LIFTED = "lifted", _("已解除")


class Response(ConcurrentTransitionMixin, models.Model):
    """The incident's emergency response. ``level`` is the active level (null until the first
    approval); ``proposal`` the pending start/raise/lower proposal, set while (and only while)
    it waits, approved only by a member of its deciding level's body, never by its proposer
    (R4, R30)."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="response")
    state = FSMField(_("状态"), default=ResponseState.PROPOSED, choices=ResponseState.choices, protected=True)
    level = models.PositiveSmallIntegerField(_("响应级别"), null=True, blank=True)
    proposal = models.ForeignKey("ResponseProposal", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("待审批的提议"))
    activated_at = models.DateTimeField(_("启动时间"), null=True, blank=True)
    level_since = models.DateTimeField(_("当前级别起始"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lift_reason = models.TextField(_("解除理由"), blank=True)
    lift_proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+")
    stable_working_days = models.PositiveSmallIntegerField(_("连续平稳工作日"), default=0)
    # The incident's report time, copied when the response is made (an incident's report time
    # never changes): the order of the bodies' approvals queue, served by ``response_waiting``
    # without joining every waiting response to its incident to sort them.
    reported_at = models.DateTimeField(_("事件登记时间"), editable=False)

    class Meta:
        verbose_name = _("应急响应")
        verbose_name_plural = _("应急响应")
        # A body's approvals inbox: lift proposals of its level.
        indexes = [models.Index(fields=["level"], name="response_lift_proposed",
                                condition=models.Q(state="lift_proposed")),
                   # The homes' running responses, level by level (workplace.home._running_first):
                   # a level with few of them is read from here, not by walking the open incidents.
                   models.Index(fields=["level"], name="response_running_level",
                                condition=models.Q(state__in=["active", "lift_proposed"])),
                   # Every response waiting for a body (responses.selectors._waiting), oldest report
                   # first: the command group's queue and its count read its first rows.
                   models.Index(fields=["reported_at", "incident"], name="response_waiting",
                                condition=models.Q(proposal__isnull=False) | models.Q(state="lift_proposed"))]

    @property
    def proposed_level(self):
        return self.proposal.level if self.proposal_id else None

    @transition(field=state, source=ResponseState.PROPOSED, target=ResponseState.ACTIVE)
    def activate(self):
        """First approval by the proposed level's body."""

    @transition(field=state, source=ResponseState.ACTIVE, target=ResponseState.ACTIVE)
    def change_level(self):
        """A raise or lower approved by the body of the new level."""

    @transition(field=state, source=ResponseState.ACTIVE, target=ResponseState.LIFT_PROPOSED)
    def propose_lift(self):
        """After N consecutive stable working days (R32)."""

    @transition(field=state, source=ResponseState.LIFT_PROPOSED, target=ResponseState.ACTIVE)
    def keep(self):
        """The lift was refused, or instability returned while it was pending."""

    @transition(field=state, source=ResponseState.LIFT_PROPOSED, target=ResponseState.LIFTED)
    def lift(self):
        """Approved by the active level's body."""

    @transition(field=state, source=ResponseState.LIFTED, target=ResponseState.ACTIVE)
    def reactivate(self):
        """Recurrence re-activates at once (R32, R50)."""


def deciding_level_for(level: int, from_level: int | None) -> int:
    """R4: the level whose body decides a start, raise or lower — the higher of the current and
    the proposed level (I is the highest): a raise by the new level's body, a lowering by the
    current level's. Which body that is, for a level, is ``responses.services._require_body_member``."""
    return level if from_level is None else min(level, from_level)


class ResponseProposal(models.Model):
    """Every proposal to start, raise or lower, and how it was decided (kept in history)."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")
        SUPERSEDED = "superseded", _("已被新提议取代")
        WITHDRAWN = "withdrawn", _("已撤回")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="response_proposals")
    level = models.PositiveSmallIntegerField(_("提议级别"))
    from_level = models.PositiveSmallIntegerField(_("原级别"), null=True, blank=True)
    deciding_level = models.PositiveSmallIntegerField(
        _("审批机构级别"), help_text=_("提议级别与原级别中较高者的决策机构审批（R4）。"))
    reason = models.TextField(_("理由"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("审批意见"), blank=True)

    class Meta:
        ordering = ["proposed_at", "id"]
        verbose_name = _("响应级别提议")
        verbose_name_plural = _("响应级别提议")
        # A body's approvals inbox: proposals of its level waiting for a decision.
        indexes = [models.Index(fields=["deciding_level"], name="proposal_pending_level",
                                condition=models.Q(decision="pending"))]

    def save(self, *args, **kwargs):
        self.deciding_level = deciding_level_for(self.level, self.from_level)
        super().save(*args, **kwargs)

    @property
    def lowering(self) -> bool:
        return self.from_level is not None and self.level > self.from_level


class Instruction(models.Model):
    """批示意见: a leader's comment written with the approval or rejection of a start, raise or
    lower proposal or of a lift (optional on approval, required on rejection)."""

    class Subject(models.TextChoices):
        PROPOSAL = "proposal", _("响应级别提议")
        LIFT = "lift", _("解除提议")

    class Decision(models.TextChoices):
        APPROVED = "approved", _("批准")
        REJECTED = "rejected", _("驳回")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="instructions")
    subject = models.CharField(_("审批事项"), max_length=10, choices=Subject.choices)
    proposal = models.ForeignKey(ResponseProposal, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="instructions")
    level = models.PositiveSmallIntegerField(_("响应级别"))
    decision = models.CharField(_("审批结果"), max_length=10, choices=Decision.choices)
    text = models.TextField(_("批示意见"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written_at", "id"]
        verbose_name = _("批示意见")
        verbose_name_plural = _("批示意见")


class StabilityAssessment(models.Model):
    """One working day's stability judgment (R32)."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="assessments")
    date = models.DateField(_("日期"))
    stable = models.BooleanField(_("平稳"))
    note = models.TextField(_("说明"), blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["incident", "date"], name="uniq_assessment_day")]
        verbose_name = _("平稳研判")
        verbose_name_plural = _("平稳研判")


class SupportRequest(models.Model):
    """Expanded response (R33): a request for support to the city propaganda department."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="support_requests")
    addressee = models.CharField(_("请求对象"), max_length=100, default="市委宣传部")
    content = models.TextField(_("请求内容"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="+")

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("扩大应急响应请求")
        verbose_name_plural = _("扩大应急响应请求")


class PublicityTier(models.TextChoices):
    POSITIVE = "positive_response", _("正面回应")
    COMMENTARY = "commentary_guidance", _("网评引导")
    STRONG = "strong_publicity", _("强势宣传")


class PublicityAction(models.Model):
    """A publicity-guidance tier put in use (R34), progressive or simultaneous."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="publicity")
    tier = models.CharField(_("宣传引导层级"), max_length=20, choices=PublicityTier.choices)
    note = models.TextField(_("说明"), blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("宣传引导")
        verbose_name_plural = _("宣传引导")


class StatementState(models.TextChoices):
    DRAFT = "draft", _("待审核")
    APPROVED = "approved", _("已审定")
    REJECTED = "rejected", _("已退回")
    RELEASED = "released", _("已发布")


class Statement(ConcurrentTransitionMixin, models.Model):
    """An official statement, messaging line (口径) or public-response material (R34, R52):
    drafted by a section, approved by the command group before release."""

    class Kind(models.TextChoices):
        STATEMENT = "statement", _("情况通报/声明")
        LINE = "line", _("信息发布口径")
        MATERIAL = "material", _("专题回应材料")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="statements")
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    channel = models.CharField(_("发布渠道"), max_length=100, blank=True,
                               help_text=_("发布会、官微官媒、通知公告、媒体采访等。"))
    state = FSMField(_("状态"), default=StatementState.DRAFT, choices=StatementState.choices, protected=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("审核意见"), blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["drafted_at", "id"]
        verbose_name = _("口径与声明")
        verbose_name_plural = _("口径与声明")

    @transition(field=state, source=StatementState.DRAFT, target=StatementState.APPROVED)
    def approve(self):
        pass

    @transition(field=state, source=StatementState.DRAFT, target=StatementState.REJECTED)
    def reject(self):
        pass

    @transition(field=state, source=StatementState.APPROVED, target=StatementState.RELEASED)
    def release(self):
        pass


class ReportKind(models.TextChoices):
    QUICK = "quick", _("1小时快报")
    FLASH = "flash", _("舆情快报")
    VERIFICATION = "verification", _("核实报告")
    STATUS = "status", _("专报")
    FEEDBACK = "feedback", _("书面反馈")
    BRIEFING = "briefing", _("领导报告")
    JUDGMENT = "judgment", _("综合研判")
    SUMMARY = "summary", _("舆情分析专题报告")


class Report(models.Model):
    """Every report of API.md's kinds, with author, section or body, and time."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(_("类别"), max_length=12, choices=ReportKind.choices)
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="reports")
    owner_body = models.ForeignKey("organization.Body", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="reports", verbose_name=_("报送机构"))
    body = models.TextField(_("内容"), blank=True)
    zero = models.BooleanField(_("零报告"), default=False)
    # R51: the summary report's five parts.
    characteristics = models.TextField(_("舆情发展特点"), blank=True)
    measures_effect = models.TextField(_("应对措施及效果"), blank=True)
    experience = models.TextField(_("取得的经验"), blank=True)
    problems = models.TextField(_("存在的问题"), blank=True)
    recommendations = models.TextField(_("对策建议"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("报告")
        verbose_name_plural = _("报告")
        indexes = [models.Index(fields=["incident", "kind"])]

    SUMMARY_PARTS = ["characteristics", "measures_effect", "experience", "problems", "recommendations"]


class Consultation(models.Model):
    """A consultation (会商, R14, R35): convened by the command group or a body, with internal
    participants (people, and through them their sections) and named outside departments
    (市网信办、公安、信访 …); its minutes and decisions are recorded afterwards."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="consultations")
    agenda = models.TextField(_("会商议题"))
    convened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("召集人"))
    convened_at = models.DateTimeField(_("召开时间"))
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="consultations", blank=True,
                                          verbose_name=_("参会人员"))
    sections = models.ManyToManyField("organization.Section", related_name="consultations", blank=True,
                                      verbose_name=_("参会股室"))
    outside = models.JSONField(_("外部参会单位"), default=list, blank=True)
    minutes = models.TextField(_("会商纪要"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("纪要记录人"))
    recorded_at = models.DateTimeField(_("纪要记录时间"), null=True, blank=True)

    class Meta:
        ordering = ["convened_at", "id"]
        verbose_name = _("会商")
        verbose_name_plural = _("会商")

    def __str__(self):  # no agenda: the admin lists classified incidents' rows too (R54)
        return f"#{self.pk} · {self.convened_at:%Y-%m-%d %H:%M}"


class ConsultationDecision(models.Model):
    """A decision of a consultation. One addressed to a section is a work order (工作指令):
    its deadline (kind ``order``) is owed, reminded, escalated and counted like any other."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField(_("决定事项"))
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("承办股室"))
    due_at = models.DateTimeField(_("完成时限"), null=True, blank=True)
    deadline = models.OneToOneField("deadlines.Deadline", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="order")
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("完成人"))
    note = models.TextField(_("完成情况"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("会商决定")
        verbose_name_plural = _("会商决定")

    def __str__(self):
        return f"#{self.pk}"

    @property
    def is_order(self) -> bool:
        return self.section_id is not None
