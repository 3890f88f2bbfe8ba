"""The incident as API.md shapes it (the payloads of its actions: lifecycle/payloads.py)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from deadlines.models import Deadline
from incidents import permissions as perms
from lifecycle.payloads import SourceSerializer
from lifecycle.selectors import deadlines_of, timeline_of
from organization.models import LevelPolicy
from responses.services import lift_eligible


class SectionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


_when = serializers.DateTimeField().to_representation  # ISO 8601 in the project's time zone


def when(value):
    """``DateTimeField().to_representation(value)``, with its common case (an aware datetime,
    ISO 8601) written out: the list pays it for every embedded row."""
    if value is None:
        return None
    if api_settings.DATETIME_FORMAT != ISO_8601 or not timezone.is_aware(value):
        return _when(value)
    text = value.astimezone(timezone.get_default_timezone()).isoformat()  # the project never activates another
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class DeadlineSerializer(serializers.ModelSerializer):
    """The fields describe the shape (and the OpenAPI schema); ``to_representation`` writes the
    same dict directly, at a fraction of the cost of DRF's field-by-field walk (an incident list
    embeds hundreds of deadlines a page; tests/test_api_queries.py compares the two)."""

    owner = serializers.CharField(source="owner_code")
    met_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Deadline
        fields = ["id", "incident", "kind", "owner", "due_at", "hard_due_at", "state", "met_at", "met_by", "waived_at",
                  "escalated_at", "provisional"]

    def to_representation(self, d):
        named = hasattr(d, "owner_key")  # read with names only (lifecycle.selectors.incident_queryset)
        return {"id": d.pk, "incident": d.incident_id, "kind": d.kind, "owner": d.owner_key if named else d.owner_code,
                "due_at": when(d.due_at), "hard_due_at": when(d.hard_due_at), "state": d.state,
                "met_at": when(d.met_at),
                "met_by": (d.met_by_name if named else d.met_by.username) if d.met_by_id else None,
                "waived_at": when(d.waived_at), "escalated_at": when(d.escalated_at), "provisional": d.provisional}


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    verb = serializers.CharField()
    detail = serializers.JSONField()
    before = serializers.CharField()
    after = serializers.CharField()
    reason = serializers.CharField()

    def get_actor(self, event) -> str | None:
        if not event.actor_id:
            return None
        return event.actor_name if hasattr(event, "actor_name") else event.actor.username

    def to_representation(self, e):
        """The declared fields' output, written directly (as ``DeadlineSerializer``'s)."""
        return {"at": when(e.at), "actor": self.get_actor(e), "verb": e.verb, "detail": e.detail,
                "before": e.before, "after": e.after, "reason": e.reason}


def rows(serializer_class, items, context: dict | None = None) -> list[dict]:
    """``serializer_class(items, many=True).data`` with ONE serializer per response (kept in
    ``context``): building a serializer's fields costs more than using them, and an incident
    list builds its embedded lists fifty times a page."""
    context = {} if context is None else context
    key = f"_serializer_{serializer_class.__name__}"
    if key not in context:
        context[key] = serializer_class(context=context)
    one = context[key]
    return [one.to_representation(item) for item in items]


def timeline_data(events, visible: bool, context: dict | None = None) -> list[dict]:
    """Timeline events as the API shows them: detail and reason withheld from whoever may not
    read the incident's content (R54)."""
    return [{**e, "detail": e["detail"] if visible else {}, "reason": e["reason"] if visible else ""}
            for e in rows(TimelineEventSerializer, events, context)]


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


def _who(user) -> str | None:
    return user.username if user is not None else None


class ReportOut(serializers.Serializer):
    """API.md v1.1 "More of the incident": a report, without its text."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    section = serializers.CharField(allow_null=True)
    zero = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    submitted_by = serializers.CharField()

    def to_representation(self, report):
        return {"id": report.pk, "kind": report.kind, "section": report.section.code if report.section_id else None,
                "zero": report.zero, "submitted_at": serializers.DateTimeField().to_representation(report.submitted_at),
                "submitted_by": report.author.username}


class StatementOut(serializers.Serializer):
    """API.md v1.1 "More of the incident": a statement and its state."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    section = serializers.CharField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["draft", "approved", "rejected", "released"])
    drafted_by = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)

    def to_representation(self, st):
        return {"id": st.pk, "kind": st.kind, "section": st.section.code, "title": st.title, "state": st.state,
                "drafted_by": st.drafted_by.username, "decided_by": _who(st.decided_by)}


class JudgmentOut(serializers.Serializer):
    """A 研判 (R13): the command group's (``section`` null; it sets severity and the recommended
    levels) or a section's own, with its participants."""

    id = serializers.IntegerField()
    mode = serializers.CharField()
    section = serializers.CharField(allow_null=True)
    veracity = serializers.CharField()
    severity = serializers.CharField(allow_null=True)
    analysis = serializers.CharField()
    recommended_warning_level = serializers.IntegerField(allow_null=True)
    recommended_response_level = serializers.IntegerField(allow_null=True)
    participants = serializers.ListField(child=serializers.CharField())
    judged_by = serializers.CharField()
    judged_at = serializers.DateTimeField()

    def to_representation(self, j):
        return {"id": j.pk, "mode": j.mode, "section": j.section.code if j.section_id else None,
                "veracity": j.veracity, "severity": j.severity or None, "analysis": j.analysis,
                "recommended_warning_level": j.recommended_warning_level,
                "recommended_response_level": j.recommended_response_level,
                "participants": list(j.participants), "judged_by": j.judged_by.username,
                "judged_at": serializers.DateTimeField().to_representation(j.judged_at)}


class InstructionOut(serializers.Serializer):
    """批示意见: a leader's comment with the approval or rejection of a proposal or a lift."""

    id = serializers.IntegerField()
    subject = serializers.ChoiceField(choices=["proposal", "lift"])
    proposal = serializers.IntegerField(allow_null=True)
    level = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=["approved", "rejected"])
    text = serializers.CharField()
    author = serializers.CharField()
    written_at = serializers.DateTimeField()

    def to_representation(self, i):
        return {"id": i.pk, "subject": i.subject, "proposal": i.proposal_id, "level": i.level,
                "decision": i.decision, "text": i.text, "author": i.author.username,
                "written_at": serializers.DateTimeField().to_representation(i.written_at)}
def consultations_data(incident, visible: bool) -> list[dict]:
    """API.md v1.1: the incident's consultations (R35) with their decisions and work orders
    (an order's ``deadline`` is its ``order`` deadline). Agenda, minutes and decision texts
    are content (R54)."""
    dt = serializers.DateTimeField()

    def when(value):
        return dt.to_representation(value) if value is not None else None

    return [{
        "id": c.pk, "agenda": c.agenda if visible else "", "convened_by": c.convened_by.username,
        "convened_at": when(c.convened_at), "participants": [u.username for u in c.participants.all()],
        "sections": [s.code for s in c.sections.all()], "outside": c.outside if visible else [],
        "minutes": c.minutes if visible else "", "recorded_at": when(c.recorded_at),
        "recorded_by": c.recorded_by.username if c.recorded_by_id else None,
        "decisions": [{
            "id": d.pk, "text": d.text if visible else "", "section": d.section.code if d.section_id else None,
            "due_at": when(d.due_at), "deadline": d.deadline_id,
            "state": d.deadline.state if d.deadline_id else None, "completed_at": when(d.completed_at),
            "completed_by": d.completed_by.username if d.completed_by_id else None,
            "note": d.note if visible else ""} for d in c.decisions.all()],
    } for c in incident.consultations.all()]


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
    reports = ReportOut(many=True)
    statements = StatementOut(many=True)
    judgments = JudgmentOut(many=True)
    instructions = InstructionOut(many=True)
    consultations = serializers.ListField(child=serializers.DictField())

    def to_representation(self, incident):
        context = self.context
        user = context["request"].user
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
            "discovered_at": when(incident.discovered_at),
            "reported_at": when(incident.reported_at),
            "reported_by": incident.reported_by.username,
            "keywords": incident.keywords if visible else "",
            "sections": codes,
            "sources": rows(SourceSerializer, incident.sources.all(), context) if visible else [],
            "warning": rows(WarningOut, [w], context)[0] if (w := _warning(incident)) and visible else (
                {"level": w["level"]} if w else None),
            "response": rows(ResponseOut, [r], context)[0] if (
                r := _response(incident, context.setdefault("_level_policies", {}))) else None,
            "highest_warning_level": incident.highest_warning_level,
            "highest_response_level": incident.highest_response_level,
            "deadlines": rows(DeadlineSerializer, deadlines_of(incident), context),
            "deadline_count": incident.deadline_count,
            "attachments": [
                {"id": a.pk, "name": a.name, "kind": a.kind, "size": a.size, "sha256": a.sha256, "note": a.note,
                 "uploaded_at": when(a.uploaded_at),
                 "uploaded_by": a.uploaded_by.username, "url": f"/api/v1/attachments/{a.pk}/download/"}
                for a in incident.attachments.all()
            ] if visible else [],
            "timeline": timeline_data(timeline, visible, context),
            "timeline_count": incident.timeline_count,
            "reports": ReportOut(incident.reports.all(), many=True).data,
            # titles, analyses and comments are content (R54)
            "statements": StatementOut(incident.statements.all(), many=True).data if visible else [],
            "judgments": JudgmentOut(incident.judgments.all(), many=True).data if visible else [],
            "instructions": InstructionOut(incident.instructions.all(), many=True).data if visible else [],
            "consultations": consultations_data(incident, visible),
        }


