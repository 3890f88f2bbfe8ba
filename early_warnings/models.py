"""Early warning (R20–R23): a warning per incident with its notices, each kept in history."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

LEVEL_NAMES = {1: _("Ⅰ级（特别重大）"), 2: _("Ⅱ级（重大）"), 3: _("Ⅲ级（较大）"), 4: _("Ⅳ级（一般）")}
LEVEL_COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


class Level(models.IntegerChoices):
    I = 1, _("Ⅰ级 特别重大（红色）")  # noqa: E741
    II = 2, _("Ⅱ级 重大（橙色）")
    III = 3, _("Ⅲ级 较大（黄色）")
    IV = 4, _("Ⅳ级 一般（蓝色）")


class Delivery(models.TextChoices):
    FAX = "fax", _("机要传真")
    DOCUMENT = "document", _("机要文件")
    PHONE = "phone", _("机要电话")
    SYSTEM = "system", _("系统内发布")


class WarningState(models.TextChoices):
    ACTIVE = "active", _("预警中")
    LIFTED = "lifted", _("已解除")


class EarlyWarning(ConcurrentTransitionMixin, models.Model):
    """The incident's warning: active at a level, or lifted. Re-issued on recurrence."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="warning")
    state = FSMField(_("状态"), default=WarningState.ACTIVE, choices=WarningState.choices, protected=True)
    level = models.PositiveSmallIntegerField(_("预警级别"), choices=Level.choices)
    current = models.ForeignKey("WarningNotice", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")

    @transition(field=state, source=WarningState.ACTIVE, target=WarningState.ACTIVE)
    def adjust(self):
        """Raise or lower: a new notice (R22)."""

    @transition(field=state, source=WarningState.ACTIVE, target=WarningState.LIFTED)
    def lift(self):
        """Explicitly lifted (R22, R50)."""

    @transition(field=state, source=WarningState.LIFTED, target=WarningState.ACTIVE)
    def reissue(self):
        """Recurrence re-issues it (R22)."""


class WarningNotice(models.Model):
    """A notice with the seven fields of R21 and its delivery; never changed once issued."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("发布")
        ADJUST = "adjust", _("调整")
        LIFT = "lift", _("解除")
        REISSUE = "reissue", _("重新发布")

    warning = models.ForeignKey(EarlyWarning, on_delete=models.PROTECT, related_name="notices")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="warning_notices")
    kind = models.CharField(_("类别"), max_length=8, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("预警级别"), choices=Level.choices)
    subject = models.CharField(_("舆情对象"), max_length=200)
    start_at = models.DateTimeField(_("起始时间"))
    scope = models.TextField(_("可能影响范围"))
    matters = models.TextField(_("预警事项"))
    measures = models.TextField(_("应采取的措施"))
    issuing_body = models.CharField(_("发布机关"), max_length=100)
    delivery = models.CharField(_("发布方式"), max_length=10, choices=Delivery.choices)
    reason = models.TextField(_("理由"), blank=True)
    issued_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("预警通知")
        verbose_name_plural = _("预警通知")


class NoticeReceipt(models.Model):
    """签收: each notice to each assigned section is signed for (who, when)."""

    notice = models.ForeignKey(WarningNotice, on_delete=models.CASCADE, related_name="receipts")
    section = models.ForeignKey("organization.Section", on_delete=models.PROTECT, related_name="receipts")
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    # Kept by the close and reopen steps (early_warnings.services.receipts_on_closed, receipts_on_reopened), as
    # a deadline's: the notices still to sign leave out a closed incident's without joining it.
    incident_closed = models.BooleanField(default=False)
    # The notice's issue time, copied when the receipt is made (a notice never changes): the
    # order of the notices to sign, which ``receipt_to_sign`` serves section by section without
    # looking up every unsigned receipt's notice to sort them.
    issued_at = models.DateTimeField(_("发布时间"), editable=False)
    # The notice's incident, copied likewise: a section member's notices to sign are probed for
    # visibility at their incident without looking up each receipt's notice first.
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+", editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notice", "section"], name="uniq_notice_receipt")]
        indexes = [models.Index(fields=["section", "issued_at", "id"], name="receipt_to_sign",
                                condition=models.Q(signed_at__isnull=True, incident_closed=False))]
        verbose_name = _("预警签收")
        verbose_name_plural = _("预警签收")
