"""The incident as API.md shapes it, and the payloads of its actions."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from rest_framework import serializers

from deadlines.models import Deadline
from early_warnings.models import Delivery, Level
from incidents import permissions as perms
from incidents.models import (
    Channel,
    Platform,
    Severity,
    Source,
    Veracity,
    validate_http_url,
)
from incidents.models import Judgment as JudgmentModel
from organization.models import LevelPolicy
from responses.models import PublicityTier, ReportKind, Statement
from responses.services import lift_eligible


class SectionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DeadlineSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_code")
    met_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Deadline
        fields = ["id", "incident", "kind", "owner", "due_at", "hard_due_at", "state", "met_at", "met_by",
                  "escalated_at", "provisional"]


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    verb = serializers.CharField()
    detail = serializers.JSONField()
    before = serializers.CharField()
    after = serializers.CharField()
    reason = serializers.CharField()

    def get_actor(self, event) -> str | None:
        return event.actor.username if event.actor_id else None


def _warning(incident):
    warning = getattr(incident, "warning", None)
    if warning is None or warning.state != "active":
        return None
    notice = warning.current
    return {"level": warning.level, "subject": notice.subject, "scope": notice.scope, "matters": notice.matters,
            "measures": notice.measures, "delivery": notice.delivery, "start_at": notice.start_at,
            "issuing_body": notice.issuing_body, "issued_at": notice.issued_at,
            "issued_by": notice.issued_by.username, "kind": notice.kind, "notice": notice.pk,
            "receipts": [{"section": r.section.code, "signed_at": r.signed_at,
                          "signed_by": r.signed_by.username if r.signed_by_id else None}
                         for r in notice.receipts.all()]}


def _response(incident, policies=None):
    """``policies``: level → LevelPolicy, shared by the rows of one request (no query per row)."""
    response = getattr(incident, "response", None)
    if response is None:
        return None
    policy = None
    if policies is not None and response.level is not None:
        if response.level not in policies:
            policies[response.level] = LevelPolicy.for_level(response.level)
        policy = policies[response.level]
    return {"level": response.level, "state": response.state, "proposed_level": response.proposed_level,
            "activated_at": response.activated_at, "level_since": response.level_since,
            "lifted_at": response.lifted_at, "stable_working_days": response.stable_working_days,
            "lift_eligible": lift_eligible(response, policy)}


class WarningOut(serializers.Serializer):
    level = serializers.IntegerField()
    subject = serializers.CharField()
    scope = serializers.CharField()
    matters = serializers.CharField()
    measures = serializers.CharField()
    delivery = serializers.CharField()
    start_at = serializers.DateTimeField()
    issuing_body = serializers.CharField()
    issued_at = serializers.DateTimeField()
    issued_by = serializers.CharField()
    kind = serializers.CharField()
    notice = serializers.IntegerField()
    receipts = serializers.ListField(child=serializers.DictField())


class ResponseOut(serializers.Serializer):
    level = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(choices=["proposed", "active", "lift_proposed", "lifted"])
    proposed_level = serializers.IntegerField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    level_since = serializers.DateTimeField(allow_null=True)
    lifted_at = serializers.DateTimeField(allow_null=True)
    stable_working_days = serializers.IntegerField()
    lift_eligible = serializers.BooleanField()


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=1000, validators=[validate_http_url])
    platform = serializers.ChoiceField(choices=Platform.choices)

    class Meta:
        model = Source
        fields = ["url", "platform", "mainstream_first", "title"]


class IncidentSerializer(serializers.Serializer):
    """API.md's incident. Content of a classified incident is withheld from anyone outside its
    sections, the command group and leadership (R54): a placeholder title, nothing else."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    channel = serializers.CharField()
    state = serializers.CharField()
    veracity = serializers.CharField(allow_null=True)
    severity = serializers.CharField(allow_null=True)
    classified = serializers.BooleanField()
    content_withheld = serializers.BooleanField()
    discovered_at = serializers.DateTimeField()
    reported_at = serializers.DateTimeField()
    reported_by = serializers.CharField()
    keywords = serializers.CharField()
    sections = serializers.ListField(child=serializers.CharField())
    sources = SourceSerializer(many=True)
    warning = WarningOut(allow_null=True)
    response = ResponseOut(allow_null=True)
    deadlines = DeadlineSerializer(many=True)
    attachments = serializers.ListField(child=serializers.DictField())
    timeline = TimelineEventSerializer(many=True)

    def to_representation(self, incident):
        user = self.context["request"].user
        codes = [s.code for s in incident.sections.all()]
        visible = perms.can_see_content(user, incident, set(codes))
        timeline = incident.timeline.all()
        return {
            "id": incident.pk,
            "title": incident.title if visible else _("【涉密】舆情事件 #%(id)s") % {"id": incident.pk},
            "summary": incident.summary if visible else "",
            "channel": incident.channel,
            "state": incident.state,
            "veracity": incident.veracity or None,
            "severity": incident.severity or None,
            "classified": incident.classified,
            "content_withheld": not visible,
            "discovered_at": serializers.DateTimeField().to_representation(incident.discovered_at),
            "reported_at": serializers.DateTimeField().to_representation(incident.reported_at),
            "reported_by": incident.reported_by.username,
            "keywords": incident.keywords if visible else "",
            "sections": codes,
            "sources": SourceSerializer(incident.sources.all(), many=True).data if visible else [],
            "warning": WarningOut(w).data if (w := _warning(incident)) and visible else (
                {"level": w["level"]} if w else None),
            "response": ResponseOut(r).data if (r := _response(incident, self.context.setdefault("_level_policies", {})))
            else None,
            "deadlines": DeadlineSerializer(incident.deadlines.all(), many=True).data,
            "attachments": [
                {"id": a.pk, "name": a.name, "kind": a.kind, "size": a.size, "sha256": a.sha256, "note": a.note,
                 "uploaded_at": serializers.DateTimeField().to_representation(a.uploaded_at),
                 "uploaded_by": a.uploaded_by.username, "url": f"/api/v1/attachments/{a.pk}/download/"}
                for a in incident.attachments.all()
            ] if visible else [],
            "timeline": [
                {**e, "detail": e["detail"] if visible else {}, "reason": e["reason"] if visible else ""}
                for e in TimelineEventSerializer(timeline, many=True).data
            ],
        }


# --- input ---------------------------------------------------------------------------

class IncidentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, label=_l("标题"))
    summary = serializers.CharField(label=_l("摘要"))
    channel = serializers.ChoiceField(choices=Channel.choices, label=_l("发现渠道"))
    discovered_at = serializers.DateTimeField(label=_l("发现时间"))
    sources = SourceSerializer(many=True, required=False, default=list)
    sections = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    classified = serializers.BooleanField(required=False, default=False)
    keywords = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    related_groups = serializers.CharField(required=False, allow_blank=True, default="")
    background = serializers.CharField(required=False, allow_blank=True, default="")
    key_contradiction = serializers.CharField(required=False, allow_blank=True, default="")
    netizen_concerns = serializers.CharField(required=False, allow_blank=True, default="")


class SectionsIn(serializers.Serializer):
    sections = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class JudgeIn(serializers.Serializer):
    veracity = serializers.ChoiceField(choices=Veracity.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    analysis = serializers.CharField(required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=JudgmentModel.Mode.choices, required=False, default="joint")
    trend = serializers.CharField(required=False, allow_blank=True, default="")
    recommended_warning_level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True, default=None)
    recommended_response_level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True, default=None)


class WarnIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    subject = serializers.CharField(max_length=200)
    scope = serializers.CharField()
    matters = serializers.CharField()
    measures = serializers.CharField()
    delivery = serializers.ChoiceField(choices=Delivery.choices)
    start_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    issuing_body = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField()


class OptionalReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class EmptyIn(serializers.Serializer):
    pass


class ProposeIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssessIn(serializers.Serializer):
    date = serializers.DateField()
    stable = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReportIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    section = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    zero = serializers.BooleanField(required=False, default=False)
    characteristics = serializers.CharField(required=False, allow_blank=True, default="")
    measures_effect = serializers.CharField(required=False, allow_blank=True, default="")
    experience = serializers.CharField(required=False, allow_blank=True, default="")
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    recommendations = serializers.CharField(required=False, allow_blank=True, default="")


class SignIn(serializers.Serializer):
    notice = serializers.IntegerField()
    section = serializers.CharField()


class SpreadIn(serializers.Serializer):
    recorded_at = serializers.DateTimeField(required=False, default=timezone.now)
    platform = serializers.ChoiceField(choices=Platform.choices)
    posts = serializers.IntegerField(min_value=0, required=False, default=0)
    views = serializers.IntegerField(min_value=0, required=False, default=0)
    comments = serializers.IntegerField(min_value=0, required=False, default=0)
    shares = serializers.IntegerField(min_value=0, required=False, default=0)


class SupportIn(serializers.Serializer):
    content = serializers.CharField()
    addressee = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class SupportAnswerIn(serializers.Serializer):
    request = serializers.IntegerField()
    answer = serializers.CharField()


class PublicityIn(serializers.Serializer):
    tier = serializers.ChoiceField(choices=PublicityTier.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class StatementDraftIn(serializers.Serializer):
    section = serializers.CharField()
    kind = serializers.ChoiceField(choices=Statement.Kind.choices)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    channel = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class StatementIn(serializers.Serializer):
    statement = serializers.IntegerField()


class StatementRejectIn(serializers.Serializer):
    statement = serializers.IntegerField()
    reason = serializers.CharField()


class AttachmentIn(serializers.Serializer):
    file = serializers.FileField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
