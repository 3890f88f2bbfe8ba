"""The incident as API.md shapes it (the payloads of its actions: lifecycle/payloads.py)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from deadlines.models import Deadline
from incidents import permissions as perms
from lifecycle.payloads import SourceSerializer
from lifecycle.selectors import deadlines_of, timeline_of
from organization.models import LevelPolicy
from responses.services import lift_eligible


class SectionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DeadlineSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner_code")
    met_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

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


def timeline_data(events, visible: bool) -> list[dict]:
    """Timeline events as the API shows them: detail and reason withheld from whoever may not
    read the incident's content (R54)."""
    return [{**e, "detail": e["detail"] if visible else {}, "reason": e["reason"] if visible else ""}
            for e in TimelineEventSerializer(events, many=True).data]


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
        if not policies:  # every level's policy at once: one query per request, whatever the rows
            policies.update(LevelPolicy.by_level())
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
    highest_warning_level = serializers.IntegerField(allow_null=True)  # the highest ever reached
    highest_response_level = serializers.IntegerField(allow_null=True)
    deadlines = DeadlineSerializer(many=True)
    deadline_count = serializers.IntegerField()
    attachments = serializers.ListField(child=serializers.DictField())
    timeline = TimelineEventSerializer(many=True)
    timeline_count = serializers.IntegerField()

    def to_representation(self, incident):
        user = self.context["request"].user
        codes = [s.code for s in incident.sections.all()]
        visible = perms.can_see_content(user, incident, set(codes))
        timeline = timeline_of(incident)
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
            "highest_warning_level": incident.highest_warning_level,
            "highest_response_level": incident.highest_response_level,
            "deadlines": DeadlineSerializer(deadlines_of(incident), many=True).data,
            "deadline_count": incident.deadline_count,
            "attachments": [
                {"id": a.pk, "name": a.name, "kind": a.kind, "size": a.size, "sha256": a.sha256, "note": a.note,
                 "uploaded_at": serializers.DateTimeField().to_representation(a.uploaded_at),
                 "uploaded_by": a.uploaded_by.username, "url": f"/api/v1/attachments/{a.pk}/download/"}
                for a in incident.attachments.all()
            ] if visible else [],
            "timeline": timeline_data(timeline, visible),
            "timeline_count": incident.timeline_count,
        }


