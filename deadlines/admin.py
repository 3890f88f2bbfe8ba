from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from sentiment_ops.exceptions import Forbidden
from sentiment_ops.readonly import ReadOnlyAdmin

from . import accountability, services
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
