"""The admin shows the record read-only: every change goes through the services (R53)."""

from django.contrib import admin

from sentiment_ops.readonly import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Assignment,
    Attachment,
    ClassifiedAccess,
    Incident,
    Judgment,
    Source,
    SpreadFigure,
    TimelineEvent,
)


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["section", "assigned_at", "assigned_by"]
    readonly_fields = fields


class SourceInline(ReadOnlyInline):
    model = Source
    fields = ["url", "platform", "mainstream_first", "added_at"]
    readonly_fields = fields


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fields = ["at", "actor", "verb", "before", "after", "reason", "detail"]
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "state", "severity", "classified", "channel", "reported_at"]
    list_filter = ["state", "severity", "classified", "channel"]
    search_fields = ["title", "summary", "keywords"]
    date_hierarchy = "reported_at"
    inlines = [AssignmentInline, SourceInline, TimelineInline]


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "actor", "verb", "before", "after"]
    list_filter = ["verb"]
    search_fields = ["incident__title", "verb"]
    date_hierarchy = "at"


@admin.register(ClassifiedAccess)
class ClassifiedAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "incident", "user", "via", "content_shown"]
    list_filter = ["via", "content_shown"]
    date_hierarchy = "at"


for model in (Judgment, SpreadFigure, Attachment):
    admin.site.register(model, ReadOnlyAdmin)
