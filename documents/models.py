"""Paper that leaves the building (R14, R15, R21, R23, R31, R51–R53): the unit's letterhead
and numbering, its replaceable Word templates, the numbers given to issued documents, and the
sealed archive of a closed case."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    FLASH = "flash", _("舆情快报")
    WARNING = "warning", _("预警通知单")
    VERIFICATION = "verification", _("核查报告")
    STATUS = "status", _("专报")
    FEEDBACK = "feedback", _("书面反馈")
    BRIEFING = "briefing", _("报告领导")
    JUDGMENT = "judgment", _("研判意见")
    SUMMARY = "summary", _("舆情分析专题报告")


# 快报 and 专报 are bulletins (简报: 期号 per unit and year); the rest are 公文 with a 发文字号.
BULLETIN_KINDS = {DocumentKind.FLASH, DocumentKind.STATUS}
# Documents sent upward (上行文) name their 签发人.
UPWARD_KINDS = {DocumentKind.FEEDBACK, DocumentKind.BRIEFING, DocumentKind.SUMMARY}


class DocumentPolicy(models.Model):
    """The unit's letterhead and numbering (one row, like organization.UnitPolicy)."""

    letterhead = models.CharField(_("版头（发文机关标志）"), max_length=60, default="包头市住房保障和房屋管理局文件")
    number_prefix = models.CharField(_("发文机关代字"), max_length=20, default="包房舆",
                                     help_text=_("发文字号为“代字〔年份〕序号号”，如 包房舆〔2026〕1号。"))
    signer = models.CharField(_("签发人"), max_length=20, default="",
                              blank=True, help_text=_("上行文标注的签发人姓名。"))
    bulletin_unit = models.CharField(_("简报编发单位"), max_length=60, default="局舆情信息指挥小组")
    secrecy_mark = models.CharField(_("密级和保密期限"), max_length=20, default="秘密★1年")
    addressee_up = models.CharField(_("上行文主送机关"), max_length=60, default="市委网信办")

    class Meta:
        verbose_name = _("公文设置")
        verbose_name_plural = _("公文设置")

    def __str__(self):
        return str(self._meta.verbose_name)


class DocumentTemplate(models.Model):
    """A unit's own Word template (docxtpl/Jinja tags, see docs/documents.md) for one kind;
    without one the built-in GB/T 9704 layout is used."""

    kind = models.CharField(_("公文种类"), max_length=12, choices=DocumentKind.choices, unique=True)
    file = models.FileField(_("模板文件（.docx）"), upload_to="document-templates/")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="+", verbose_name=_("上传人"))

    class Meta:
        verbose_name = _("公文模板")
        verbose_name_plural = _("公文模板")

    def __str__(self):
        return self.get_kind_display()


class IssuedDocument(models.Model):
    """The number a document got when it was first issued; a later download reuses it."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("公文种类"), max_length=12, choices=DocumentKind.choices)
    # What it prints: one report, one warning notice, or one judgment (研判意见 without a report).
    source_key = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField(_("年份"))
    series = models.CharField(max_length=12)  # "number" (发文字号) or the bulletin kind (期号)
    number = models.PositiveIntegerField(_("序号"))
    issued_at = models.DateTimeField(_("首次印发时间"), auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  related_name="+")  # None: issued by the archive build

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("已印发公文")
        verbose_name_plural = _("已印发公文")
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_key"], name="uniq_issued_document"),
            models.UniqueConstraint(fields=["series", "year", "number"], name="uniq_document_number"),
        ]


class IncidentArchive(models.Model):
    """The sealed record of a closed case (R53): archive.zip in storage, built for one closing."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.PROTECT, related_name="archive")
    file = models.FileField(_("归档文件"), upload_to="archives/", blank=True)
    sealed_for = models.DateTimeField(_("对应办结时间"), null=True, blank=True)
    built_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    timeline_head = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("归档")
        verbose_name_plural = _("归档")

    def fresh_for(self, incident) -> bool:
        return bool(self.file) and self.sealed_for == incident.closed_at
