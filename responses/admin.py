from django.contrib import admin

from sentiment_ops.readonly import ReadOnlyAdmin

from .models import (
    Consultation,
    ConsultationDecision,
    Instruction,
    PublicityAction,
    Report,
    Response,
    ResponseProposal,
    StabilityAssessment,
    Statement,
    SupportRequest,
)


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ["incident", "state", "level", "activated_at", "stable_working_days", "lifted_at"]
    list_filter = ["state", "level"]


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "section", "owner_body", "zero", "author", "submitted_at"]
    list_filter = ["kind", "zero", "section"]


@admin.register(ResponseProposal)
class ResponseProposalAdmin(ReadOnlyAdmin):
    list_display = ["incident", "level", "from_level", "deciding_level", "proposed_by", "decision", "decided_by",
                    "decided_at"]
    list_filter = ["decision", "level"]


for model in (StabilityAssessment, SupportRequest, PublicityAction, Statement, Instruction, Consultation,
              ConsultationDecision):
    admin.site.register(model, ReadOnlyAdmin)
