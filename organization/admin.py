from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .calendar import year_coverage
from .models import (
    Body,
    BodyMembership,
    LevelPolicy,
    Section,
    SectionMembership,
    UnitPolicy,
    User,
    WorkCalendar,
)
from .tokens import token_issue, tokens_revoke


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


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("单位信息"), {"fields": ("full_name", "is_service_account")}),)
    list_display = ["username", "full_name", "is_active", "is_staff", "is_service_account"]
    list_filter = [*BaseUserAdmin.list_filter, "is_service_account"]
    search_fields = ["username", "full_name", "email"]
    actions = ["issue_long_lived_token", "revoke_tokens"]

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
    list_display = ["code", "name", "level"]
    inlines = [BodyMembershipInline]

    def save_formset(self, request, form, formset, change):
        _save_members(formset, lambda obj: services.body_add_member(body=form.instance, user=obj.user),
                      lambda obj: services.body_remove_member(body=form.instance, user=obj.user))


@admin.register(UnitPolicy)
class UnitPolicyAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["unit_name"]}),
        (_("报送时限"), {"fields": ["quick_report_minutes", "flash_report_minutes", "feedback_hours",
                                  "feedback_hard_hours", "summary_working_days"]}),
        (_("提醒与逐级督办"), {"fields": ["reminder_leads_minutes", "urge_after_minutes",
                                       "supervise_after_minutes", "notify_after_minutes"]}),
        (_("免打扰时段"), {"fields": ["quiet_hours_enabled", "quiet_start", "quiet_end"]}),
    ]

    def has_add_permission(self, request):
        return not UnitPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LevelPolicy)
class LevelPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status_cadence_hours", "judgment_times", "briefing_times",
                    "verification_hours", "stable_working_days"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
        extra_context = {**(extra_context or {}), "year_coverage": year_coverage()}
        return super().changelist_view(request, extra_context=extra_context)

    def save_model(self, request, obj, form, change):
        obj.source = WorkCalendar.Source.ADMIN
        super().save_model(request, obj, form, change)

    @admin.action(description=_("确认所选日期"))
    def confirm_rows(self, request, queryset):
        n = services.calendar_confirm(rows=queryset)
        self.message_user(request, ngettext("已确认 %d 天。", "已确认 %d 天。", n) % n, messages.SUCCESS)

    @admin.action(description=_("为所选日期的下一年生成草稿（周一至周五为工作日）"))
    def draft_next_year(self, request, queryset):
        years = sorted({d.year for d in queryset.values_list("date", flat=True)})
        year = (years[-1] if years else 0) + 1
        n = services.calendar_draft_year(year=year)
        self.message_user(
            request,
            _("已为 %(year)s 年生成 %(n)s 天草稿：请标注节假日和调休上班日，然后确认。") % {"year": year, "n": n},
            messages.WARNING,
        )
