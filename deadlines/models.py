from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sentiment_ops import prepared


class Heartbeat(models.Model):
    """When a periodic job last finished: the dashboard and /healthz show whether the
    scheduler is alive. ``name`` is the job (``sweep`` for process_deadlines)."""

    name = models.CharField(_("任务"), max_length=64, unique=True)
    beat_at = models.DateTimeField(_("最近完成时间"))

    class Meta:
        verbose_name = _("调度心跳")
        verbose_name_plural = _("调度心跳")

    def __str__(self):
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def last(cls, name: str):
        beats = prepared.rows(("deadlines.heartbeat.last", name),  # on every command group's home
                              lambda _now: cls.objects.filter(name=name).order_by("pk").values_list("beat_at", flat=True)[:1])
        return beats[0] if beats else None


class Kind(models.TextChoices):
    QUICK = "quick", _("1小时快报")
    FLASH = "flash", _("舆情快报")
    FEEDBACK = "feedback", _("书面反馈")
    VERIFICATION = "verification", _("预警核实")
    STATUS = "status", _("专报（零报告）")
    BRIEFING = "briefing", _("报告领导")
    JUDGMENT = "judgment", _("综合研判")
    SUMMARY = "summary", _("舆情分析专题报告")
    ORDER = "order", _("工作指令")
    CONSULTATION = "consultation", _("会商")


SECTION_KINDS = {Kind.VERIFICATION, Kind.STATUS}
RESPONSE_KINDS = {Kind.STATUS, Kind.BRIEFING, Kind.JUDGMENT}


class DeadlineState(models.TextChoices):
    OPEN = "open", _("待办")
    MET = "met", _("按时完成")
    LATE = "late", _("逾期完成")
    MISSED = "missed", _("已逾期")
    CANCELLED = "cancelled", _("已撤销")
    WAIVED = "waived", _("已豁免")


class DeadlineQuerySet(models.QuerySet):
    def pending(self):
        """Still owed: open, or missed and not yet met, on an incident not closed (the row's own
        ``incident_closed``, kept by the close and reopen steps, so that no list or count of
        what is owed has to join the incidents — nor read the missed rows of closed ones)."""
        return self.filter(state__in=[DeadlineState.OPEN, DeadlineState.MISSED], incident_closed=False)

    def owned_by(self, code: str):
        if code.startswith("level") or code == "command":
            return self.filter(owner_body__code=code)
        return self.filter(owner_section__code=code)


class Deadline(models.Model):
    """An obligation with an owner (a section or a body), a due time and a state (R40, R41).
    Written in the same transaction as the event that creates it; see deadlines/policy.py."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    owner_section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="deadlines", verbose_name=_("责任股室"))
    owner_body = models.ForeignKey("organization.Body", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="deadlines", verbose_name=_("责任机构"))
    due_at = models.DateTimeField(_("到期时间"))
    hard_due_at = models.DateTimeField(_("最迟时间"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=DeadlineState.choices, default=DeadlineState.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    met_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("完成人"))
    report = models.ForeignKey("responses.Report", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="deadlines")
    escalated_at = models.DateTimeField(_("最近督办时间"), null=True, blank=True)
    escalation_step = models.CharField(_("督办进度"), max_length=10, blank=True)
    # The sweep: when it next has something to do for this row (NULL: nothing more), and
    # the plan time up to which it has done everything (deadlines/sweep.py).
    next_action_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The incident is closed: its missed rows stay missed (R41) but are owed no more. Set by
    # deadlines.services.on_closed, cleared by on_reopened.
    incident_closed = models.BooleanField(default=False)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Waived (API.md v1.1): released by the command group at closing, with its reason; counted
    # in accountability as waived, never as cancelled.
    waived_at = models.DateTimeField(_("豁免时间"), null=True, blank=True)
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("豁免人"))
    waive_reason = models.TextField(_("豁免理由"), blank=True)
    # Counted in working days (summary): from when, and whether a provisional day of the
    # calendar (statutory rules, no official schedule yet) was counted. Recomputed when the
    # year is confirmed (deadlines/receivers.py).
    counted_from = models.DateTimeField(_("工作日起算时间"), null=True, blank=True)
    provisional = models.BooleanField(_("按暂定日历计算"), default=False)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("期限")
        verbose_name_plural = _("期限")
        indexes = [
            models.Index(fields=["due_at"], name="deadline_pending_due",
                         condition=models.Q(state__in=["open", "missed"])),
            models.Index(fields=["next_action_at"], name="deadline_next_action",
                         condition=models.Q(next_action_at__isnull=False)),
            models.Index(fields=["incident", "kind", "state"]),
            # 我的待办 and its badge: what a section or a body owes now, soonest first.
            models.Index(fields=["owner_section", "due_at"], name="deadline_pending_section",
                         condition=models.Q(state__in=["open", "missed"], incident_closed=False)),
            models.Index(fields=["owner_body", "due_at"], name="deadline_pending_body",
                         condition=models.Q(state__in=["open", "missed"], incident_closed=False)),
            # The dashboard's deadline watch: everything owed, by due time.
            models.Index(fields=["due_at"], name="deadline_owed_due", condition=models.Q(state__in=["open", "missed"], incident_closed=False)),
            # A unit's deadlines of a period (the deadline ledger, documents/ledgers.py; the live
            # aggregate accountability's summary is checked against). Accountability itself
            # reads its tallies (deadlines/tallies.py).
            models.Index(fields=["owner_section", "due_at", "state"], name="deadline_account_section"),
            models.Index(fields=["owner_body", "due_at", "state"], name="deadline_account_body"),
            # Accountability's "overdue" (open and past due, by owner): the one figure read live.
            models.Index(fields=["due_at", "owner_section", "owner_body"], name="deadline_open_due",
                         condition=models.Q(state="open")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner_section__isnull=False) | models.Q(owner_body__isnull=False),
                name="deadline_has_owner",
            ),
            # Repeating duties are slots: exactly one open slot per duty and owner (policy.py).
            models.UniqueConstraint(fields=["incident", "kind", "owner_section"], name="one_open_status_slot",
                                    condition=models.Q(state="open", kind="status")),
            models.UniqueConstraint(fields=["incident", "kind", "owner_body"], name="one_open_fixed_time_slot",
                                    condition=models.Q(state="open", kind__in=["briefing", "judgment"])),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.owner_code} · {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def owner_code(self) -> str:
        return self.owner_section.code if self.owner_section_id else self.owner_body.code


class Tally(models.Model):
    """Accountability's summary (R41, issue 12): how many deadlines are due on each local day
    (``TIME_ZONE``) — or, ``monthly``, in each month — per owner, person who met them and
    state. A key is (section, body, met_by) ids with 0 for none. Derived data: written only by
    ``deadlines.tallies.compact`` (the beat's ``compact-tallies``) from ``TallyDelta``; read by deadlines/accountability.py.
    The month rows are the sums of their day rows, so a long period reads a few rows a month."""

    monthly = models.BooleanField(default=False)
    day = models.DateField()  # the month's first day for a monthly row
    section = models.BigIntegerField(default=0)
    body = models.BigIntegerField(default=0)
    met_by = models.BigIntegerField(default=0)
    state = models.CharField(max_length=10)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monthly", "day", "section", "body", "met_by", "state"],
                                               name="tally_key")]

    def __str__(self):
        return f"{self.day} {self.section}/{self.body}/{self.met_by} {self.state}: {self.n}"


class TallyDelta(models.Model):
    """Insert-only: the change each statement on ``deadlines_deadline`` made to the tallies
    (+n rows entering a key, -n leaving it). Written by database triggers (migration
    0013_accountability_tallies), so every writer is counted — services, the sweep's bulk
    updates, slot creation, deletes; folded into ``Tally`` by ``deadlines.tallies.compact``."""

    day = models.DateField()
    section = models.BigIntegerField(default=0)
    body = models.BigIntegerField(default=0)
    met_by = models.BigIntegerField(default=0)
    state = models.CharField(max_length=10)
    n = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="tally_delta_day")]

    def __str__(self):
        return f"{self.day} {self.section}/{self.body}/{self.met_by} {self.state}: {self.n:+d}"


class Step(models.TextChoices):
    REMIND = "remind", _("提醒")
    URGE = "urge", _("催办")
    SUPERVISE = "supervise", _("督办")
    NOTIFY = "notify", _("通报")


class Notification(models.Model):
    """An in-app notice to one person. For a deadline, (deadline, step, sequence, recipient)
    is unique: two sweeps or a redelivered task can never notify twice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="notifications")
    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="notifications")
    step = models.CharField(_("环节"), max_length=10, choices=Step.choices, blank=True)
    sequence = models.PositiveIntegerField(default=0, help_text="minutes before due for reminders; 0 otherwise")
    title = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Notices of no deadline (deadlines/notices.py): the event, and the decision asked for
    # (``proposal:<id>`` …) until it is made (``done_at``, for everyone it went to).
    event = models.CharField(_("事件"), max_length=40, blank=True)
    awaits = models.CharField(_("待决事项"), max_length=60, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(fields=["deadline", "step", "sequence", "recipient"], name="uniq_notification_step",
                                    condition=models.Q(deadline__isnull=False)),
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"]),
                   models.Index(fields=["awaits"], name="notification_awaiting",
                                condition=models.Q(done_at__isnull=True) & ~models.Q(awaits=""))]

    def __str__(self):
        return self.title


class Delivery(models.Model):
    """The outbox: what leaves the system (email, group-robot webhook). Written with the
    notification; a sender marks it sent; failures retry with backoff."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("群机器人")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    key = models.CharField(max_length=200, unique=True, help_text="dedupe key: one delivery per event and target")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    target = models.CharField(_("目标"), max_length=500)
    subject = models.CharField(_("主题"), max_length=300)
    text = models.TextField(_("内容"))
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="deliveries")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("外发记录")
        verbose_name_plural = _("外发记录")
        indexes = [models.Index(fields=["next_attempt_at"], name="delivery_pending",
                                condition=models.Q(state="pending"))]

    def __str__(self):
        return f"{self.channel} → {self.target}"
