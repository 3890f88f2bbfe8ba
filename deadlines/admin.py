from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from organization.demo import demo_password_scan
from organization.models import User
from sentiment_ops.exceptions import Forbidden
from sentiment_ops.readonly import ReadOnlyAdmin

from . import accountability, checklist, services
from .models import Deadline, Delivery, Heartbeat, Notification


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
    readonly_fields = ["name", "beat_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    """Read-only: deadlines are written by the lifecycle services only (R40). The changelist
    links to the accountability figures (R41) at ``accountability/``."""

    list_display = ["incident_ref", "kind", "owner", "due_at", "hard_due_at", "state", "met_at", "met_by",
                    "escalated_at", "provisional"]
    list_filter = ["state", "kind", "owner_section", "owner_body", ("due_at", admin.DateFieldListFilter),
                   "provisional"]
    list_select_related = ["owner_section", "owner_body", "met_by"]
    date_hierarchy = "due_at"
    # One template for the changelist (adds the link) and the accountability page.
    change_list_template = "admin/deadlines/accountability.html"

    @admin.display(description=_("事件"), ordering="incident_id")
    def incident_ref(self, obj):
        return f"#{obj.incident_id}"  # never the title: it may be classified (R54)

    @admin.display(description=_("责任单位"))
    def owner(self, obj):
        return obj.owner_code

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "accountability_base": "admin/change_list.html"}
        return super().changelist_view(request, extra_context=extra_context)

    def get_urls(self):
        own = [path("accountability/", self.admin_site.admin_view(self.accountability_view),
                    name="deadlines_deadline_accountability")]
        return own + super().get_urls()

    def accountability_view(self, request):
        scope = accountability.scope_for(request.user)
        if scope is None:
            raise PermissionDenied
        form = accountability.AccountabilityFilter(request.GET or None)
        result = None
        if not form.is_bound or form.is_valid():  # else the form shows its errors
            data = form.cleaned_data if form.is_bound else {}
            try:
                result = accountability.report_for(request.user, scope=scope, start=data.get("from"),
                                                   end=data.get("to"), owner=data.get("section"))
            except Forbidden:
                raise PermissionDenied from None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("问责统计"),
            "form": form,
            "report": result,
        }
        return TemplateResponse(request, "admin/deadlines/accountability.html", context)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """外发记录: what was sent by email or group robot, what failed and why; re-send."""

    list_display = ["created_at", "channel", "target", "subject", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel"]
    search_fields = ["target", "subject"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新发送所选记录"))
    def resend(self, request, queryset):
        n = services.delivery_resend(deliveries=queryset)
        self.message_user(request, _("已安排重新发送 %(n)s 条。") % {"n": n})

    def get_urls(self):
        own = [path("test/", self.admin_site.admin_view(self.test_view), name="deadlines_delivery_test"),
               path("demo-password/", self.admin_site.admin_view(self.demo_password_view),
                    name="deadlines_delivery_demo_password")]
        return own + super().get_urls()

    def test_view(self, request):
        """发送测试消息 (the first-run checklist's buttons): one channel, through the outbox."""
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        code = request.POST.get("unit", "")
        found = {(c.channel, c.code): c for c in checklist.channels(request.user)}
        channel = found.get((request.POST.get("channel", ""), code))
        try:
            if channel is None:
                raise ValidationError(_("没有这个渠道。"))
            services.delivery_test(channel=channel.channel, target=channel.target, unit=code, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("测试消息已放入外发队列（%(channel)s）：发送成功后清单变为绿色；"
                                         "失败原因见“外发记录”。") % {"channel": channel.name}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:index") + "#channels")

    def demo_password_view(self, request):
        """检查演示密码: every account not checked yet, one hash each (the checklist reads the verdicts)."""
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        found = demo_password_scan(User.objects.filter(is_active=True).only("username", "password"))
        if found:
            self.message_user(request, _("仍使用演示密码：%(users)s") % {"users": "、".join(found)}, messages.ERROR)
        else:
            self.message_user(request, _("没有账号使用演示密码。"), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:index"))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "step", "title", "read_at"]
    list_filter = ["step"]
    search_fields = ["title", "recipient__username"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
