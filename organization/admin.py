import base64

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sentiment_ops.readonly import ReadOnlyAdmin

from . import holidays, notice, presets, services, workbook
from .calendar import year_coverage
from .models import (
    ROMAN,
    Body,
    BodyMembership,
    CalendarConfirmation,
    LevelPolicy,
    Section,
    SectionMembership,
    UnitPolicy,
    User,
    WorkCalendar,
)
from .selectors import organization_book
from .tokens import token_issue, tokens_revoke

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_SESSION_KEY = "organization_workbook"  # the uploaded workbook between dry run and import


def _superuser_only(request):
    if not request.user.is_superuser:
        raise PermissionDenied


def _save_members(formset, add, remove):
    """A membership inline saved through the organisation's services, never by the formset."""
    for obj in formset.save(commit=False):
        add(obj)
    for obj in formset.deleted_objects:
        remove(obj)


class SectionMembershipInline(admin.TabularInline):
    model = SectionMembership
    extra = 0
    autocomplete_fields = ["user"]


class BodyMembershipInline(admin.TabularInline):
    model = BodyMembership
    extra = 0
    autocomplete_fields = ["user"]


class WorkbookForm(forms.Form):
    upload = forms.FileField(label=_("组织机构工作簿（.xlsx）"))


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("单位信息"), {"fields": (
        "full_name", "phone", "must_change_password", "is_service_account")}),)
    list_display = ["username", "full_name", "is_active", "is_staff", "is_service_account"]
    list_filter = [*BaseUserAdmin.list_filter, "is_service_account"]
    search_fields = ["username", "full_name", "email"]
    actions = ["issue_long_lived_token", "revoke_tokens", "issue_one_time_password"]
    change_list_template = "admin/organization/user/change_list.html"

    def get_urls(self):
        own = [
            path("workbook/", self.admin_site.admin_view(self.workbook_view), name="organization_user_workbook"),
            path("workbook/template.xlsx", self.admin_site.admin_view(self.workbook_template),
                 name="organization_user_workbook_template"),
            path("workbook/export.xlsx", self.admin_site.admin_view(self.workbook_export),
                 name="organization_user_workbook_export"),
        ]
        return own + super().get_urls()

    def _xlsx(self, data: bytes, filename: str) -> HttpResponse:
        response = HttpResponse(data, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def workbook_template(self, request):
        _superuser_only(request)
        return self._xlsx(workbook.write(workbook.Book({}, {}, {}, [])), "organization-template.xlsx")

    def workbook_export(self, request):
        _superuser_only(request)
        return self._xlsx(workbook.write(organization_book()), "organization.xlsx")

    def workbook_view(self, request):
        """导入组织机构: upload → a dry run listing every change and every row's error → import
        (one transaction) → the one-time passwords of new people, shown this once."""
        _superuser_only(request)
        form = WorkbookForm(request.POST or None, request.FILES or None)
        result, pending, passwords = None, False, None
        if request.method == "POST" and "import" in request.POST:
            data = base64.b64decode(request.session.pop(WORKBOOK_SESSION_KEY, "") or b"")
            result = services.organization_import(data=data, actor=request.user, dry_run=False)
            if result.applied:
                passwords = sorted(result.passwords.items())
                self.message_user(request, ngettext("已导入：%(n)d 项变更。", "已导入：%(n)d 项变更。",
                                                   len(result.changes)) % {"n": len(result.changes)},
                                  messages.SUCCESS)
            form = WorkbookForm()
        elif request.method == "POST" and form.is_valid():
            data = form.cleaned_data["upload"].read()
            result = services.organization_import(data=data, actor=request.user, dry_run=True)
            pending = not result.errors and bool(result.changes)
            if pending:
                request.session[WORKBOOK_SESSION_KEY] = base64.b64encode(data).decode()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("导入组织机构与人员"),
            "form": form,
            "result": result,
            "pending": pending,
            "passwords": passwords,
        }
        return TemplateResponse(request, "admin/organization/user/workbook.html", context)

    @admin.action(description=_("重置为一次性密码（首次登录须修改）"), permissions=["change"])
    def issue_one_time_password(self, request, queryset):
        for user in queryset.filter(is_service_account=False):
            password = services.user_one_time_password(user=user)
            self.message_user(request, _("“%(user)s”的一次性密码（只显示这一次）：%(password)s")
                              % {"user": user.username, "password": password}, messages.WARNING)

    @admin.action(description=_("签发长期接口令牌（仅服务账号）"), permissions=["change"])
    def issue_long_lived_token(self, request, queryset):
        """For monitoring software: the token is shown once, here, and stored only as a digest."""
        for user in queryset:
            if not user.is_service_account:
                self.message_user(request, _("“%(user)s”不是服务账号，未签发长期令牌。") % {"user": user.username},
                                  messages.ERROR)
                continue
            token, _row = token_issue(user=user, long_lived=True)
            self.message_user(request, _("服务账号“%(user)s”的长期令牌（只显示这一次，请妥善保存）：%(token)s")
                              % {"user": user.username, "token": token}, messages.WARNING)

    @admin.action(description=_("吊销全部接口令牌"), permissions=["change"])
    def revoke_tokens(self, request, queryset):
        revoked = sum(tokens_revoke(user=user) for user in queryset)
        self.message_user(request, ngettext("已吊销 %(n)d 个令牌。", "已吊销 %(n)d 个令牌。", revoked) % {"n": revoked})


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]
    inlines = [SectionMembershipInline]

    def save_formset(self, request, form, formset, change):
        """Members join and leave through the services, so that they also join or leave the
        section's group (their per-incident grants) and get the staff or head role."""
        _save_members(formset, lambda obj: services.section_add_member(
            section=form.instance, user=obj.user, head=obj.is_head),
            lambda obj: services.section_remove_member(section=form.instance, user=obj.user))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.group = services.section_group(obj.code)
        super().save_model(request, obj, form, change)


@admin.register(Body)
class BodyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decides"]
    inlines = [BodyMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("deciding_levels")

    @admin.display(description=_("决定的响应级别"))
    def decides(self, obj):
        # Set in 分级响应策略 (LevelPolicy.deciding_body): one body may decide several levels.
        return "、".join(f"{ROMAN[p.level]}级" for p in sorted(obj.deciding_levels.all(), key=lambda p: p.level)) or "—"

    def save_formset(self, request, form, formset, change):
        _save_members(formset, lambda obj: services.body_add_member(body=form.instance, user=obj.user),
                      lambda obj: services.body_remove_member(body=form.instance, user=obj.user))


@admin.register(UnitPolicy)
class UnitPolicyAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["unit_name", "office_section"]}),
        (_("报送时限"), {"fields": ["quick_report_minutes", "flash_report_minutes", "consultation_minutes",
                                  "feedback_hours", "feedback_hard_hours", "summary_working_days",
                                  "discovery_horizon_days"]}),
        (_("提醒与逐级督办"), {"fields": ["reminder_leads_minutes", "urge_after_minutes",
                                       "supervise_after_minutes", "notify_after_minutes"]}),
        (_("免打扰时段"), {"fields": ["quiet_hours_enabled", "quiet_start", "quiet_end"]}),
    ]

    def has_add_permission(self, request):
        return not UnitPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        own = [path("setup/", self.admin_site.admin_view(self.setup_view), name="organization_unitpolicy_setup")]
        return own + super().get_urls()

    def setup_view(self, request):
        """首次设置: the unit from one of the seed plans (the page of ``manage.py setup_unit``)."""
        _superuser_only(request)
        form = SetupForm(request.POST or None, initial={"name": UnitPolicy.current().unit_name})
        if request.method == "POST" and form.is_valid():
            unit = services.unit_setup(preset=form.cleaned_data["preset"], name=form.cleaned_data["name"])
            self.message_user(request, _("已按预案设置“%(unit)s”：股室、决策指挥机构、各级响应的决策机构和时限。"
                                         "请导入人员并完成首页的检查清单。") % {"unit": unit.unit_name},
                              messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:index"))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": _("按预案设置单位"),
                   "form": form, "presets": presets.PRESETS.values()}
        return TemplateResponse(request, "admin/organization/unitpolicy/setup.html", context)


class SetupForm(forms.Form):
    preset = forms.ChoiceField(label=_("预案"), widget=forms.RadioSelect,
                               choices=[(p.key, p.title) for p in presets.PRESETS.values()])
    name = forms.CharField(label=_("单位名称"), max_length=100, required=False,
                           help_text=_("留空则用预案中的单位名称。"))


@admin.register(LevelPolicy)
class LevelPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "deciding_body", "status_cadence_hours", "judgment_times", "briefing_times",
                    "verification_hours", "stable_working_days"]
    list_select_related = ["deciding_body"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OfficialScheduleForm(forms.Form):
    """录入官方安排: the State Council's notice pasted, or a CSV/ICS file, for one year."""

    year = forms.IntegerField(label=_("年度"), min_value=holidays.FIRST_RULE_YEAR, max_value=holidays.LAST_RULE_YEAR)
    text = forms.CharField(label=_("通知条目（粘贴）"), required=False, widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
                           help_text=_("粘贴《国务院办公厅关于部分节假日安排的通知》中的各条，如“一、元旦：1月1日放假……”。"))
    upload = forms.FileField(label=_("或上传文件（TXT/CSV/ICS）"), required=False)
    source_name = forms.CharField(required=False, widget=forms.HiddenInput)
    override_reason = forms.CharField(
        label=_("保留法定节假日为工作日的理由"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 100}),
        help_text=_("仅当录入的安排把法定节假日列为工作日、且确属通知原文时填写；理由随确认记录保存。"))

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError({"upload": _("文件须为 UTF-8 编码的文本。")}) from None
            data["source_name"] = upload.name
        if not data.get("text", "").strip():
            raise forms.ValidationError({"text": _("请粘贴通知条目或上传文件。")})
        data["source_name"] = data.get("source_name") or _("粘贴的通知条目")
        return data


@admin.register(CalendarConfirmation)
class CalendarConfirmationAdmin(ReadOnlyAdmin):
    """Who confirmed which year from what, with every difference from the rules (read-only)."""

    list_display = ["year", "confirmed_at", "confirmed_by", "source_name", "override_reason"]
    readonly_fields = ["year", "confirmed_at", "confirmed_by", "source_name", "source_text", "differences",
                       "overridden", "override_reason"]


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "holiday_name", "source", "confirmed"]
    list_filter = ["confirmed", "is_workday", "source", ("date", admin.DateFieldListFilter)]
    date_hierarchy = "date"
    list_editable = ["is_workday", "holiday_name"]
    search_fields = ["holiday_name"]
    actions = ["confirm_rows", "draft_next_year"]
    change_list_template = "admin/organization/workcalendar/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "year_coverage": year_coverage(timezone.localdate())}
        return super().changelist_view(request, extra_context=extra_context)

    def get_urls(self):
        own = [path("official/", self.admin_site.admin_view(self.official_view),
                    name="organization_workcalendar_official")]
        return own + super().get_urls()

    def official_view(self, request):
        """录入官方安排: parse, show beside the statutory rules, confirm the year in one action."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        form = OfficialScheduleForm(request.POST or None, request.FILES or None,
                                    initial={"year": today.year + 1 if today.month >= 11 else today.year})
        schedule = comparison = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            schedule = notice.parse(data["text"], year=data["year"], filename=data["source_name"])
            comparison = holidays.compare_with_rules(schedule.year, schedule.table())
            form = OfficialScheduleForm(initial={**data, "upload": None})  # the text stays for the confirm
            if "confirm" in request.POST:
                if schedule.errors:
                    self.message_user(request, _("还有无法识别的行，请修改后再确认。"), messages.ERROR)
                else:
                    try:
                        services.calendar_year_confirm(
                            year=schedule.year, table=schedule.table(), actor=request.user,
                            source_name=data["source_name"], source_text=data["text"],
                            override_reason=data["override_reason"])
                    except ValidationError as exc:
                        for message in exc.messages:
                            self.message_user(request, message, messages.ERROR)
                    else:
                        self.message_user(request, _("%(year)s 年工作日历已确认；按暂定日历计算的未到期期限已重新计算。")
                                          % {"year": schedule.year}, messages.SUCCESS)
                        return HttpResponseRedirect(reverse("admin:organization_workcalendar_changelist")
                                                    + f"?date__year={schedule.year}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("录入官方放假安排"),
            "form": form,
            "schedule": schedule,
            "comparison": comparison,
            "differences": sum(1 for row in comparison or [] if row["differs"]),
            "left_working": [row for row in comparison or [] if row["statutory_left_working"]],
            "rules": holidays.rest_days(schedule.year).values() if schedule else None,
        }
        return TemplateResponse(request, "admin/organization/workcalendar/official.html", context)

    def save_model(self, request, obj, form, change):
        obj.source = WorkCalendar.Source.ADMIN
        super().save_model(request, obj, form, change)

    @admin.action(description=_("确认所选日期"))
    def confirm_rows(self, request, queryset):
        try:
            n = services.calendar_confirm(rows=queryset)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, ngettext("已确认 %d 天。", "已确认 %d 天。", n) % n, messages.SUCCESS)

    @admin.action(description=_("为所选日期的下一年生成草稿（按法定节假日规则，无调休上班日）"))
    def draft_next_year(self, request, queryset):
        years = sorted({d.year for d in queryset.values_list("date", flat=True)})
        year = (years[-1] if years else 0) + 1
        n = services.calendar_draft_year(year=year)
        self.message_user(
            request,
            _("已为 %(year)s 年按法定节假日规则生成 %(n)s 天草稿：请按国务院通知补录调休上班日后确认，或使用“录入官方安排”。")
            % {"year": year, "n": n},
            messages.WARNING,
        )
