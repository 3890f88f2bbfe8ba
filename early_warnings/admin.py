from django.contrib import admin

from sentiment_ops.readonly import ReadOnlyAdmin

from .models import EarlyWarning, NoticeReceipt, WarningNotice


@admin.register(WarningNotice)
class WarningNoticeAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "level", "subject", "delivery", "issued_at", "issued_by"]
    list_filter = ["kind", "level", "delivery"]


@admin.register(NoticeReceipt)
class NoticeReceiptAdmin(ReadOnlyAdmin):
    list_display = ["notice", "section", "signed_at", "signed_by"]
    list_filter = ["section"]


admin.site.register(EarlyWarning, ReadOnlyAdmin)
