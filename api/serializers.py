"""The incident as API.md shapes it (the payloads of its actions: lifecycle/payloads.py)."""

from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from deadlines.models import Deadline
from incidents import permissions as perms
from lifecycle.payloads import SourceSerializer
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
    if api_settings.DATETIME_FORMAT != ISO_8601 or value.utcoffset() is None:  # timezone.is_aware's test
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
        return deadline_data({
            "id": d.pk, "incident_id": d.incident_id, "kind": d.kind, "owner_key": d.owner_code, "due_at": d.due_at,
            "hard_due_at": d.hard_due_at, "state": d.state, "met_at": d.met_at, "met_by_id": d.met_by_id,
            "met_by_name": d.met_by.username if d.met_by_id else None, "waived_at": d.waived_at,
            "escalated_at": d.escalated_at, "provisional": d.provisional})


def deadline_data(d: dict) -> dict:
    """A deadline as API.md shows it, from a row of ``lifecycle.selectors.incident_parts``
    (or the same keys read from a model: ``DeadlineSerializer``)."""
    return {"id": d["id"], "incident": d["incident_id"], "kind": d["kind"], "owner": d["owner_key"],
            "due_at": when(d["due_at"]), "hard_due_at": when(d["hard_due_at"]), "state": d["state"],
            "met_at": when(d["met_at"]), "met_by": d["met_by_name"] if d["met_by_id"] else None,
            "waived_at": when(d["waived_at"]), "escalated_at": when(d["escalated_at"]), "provisional": d["provisional"]}


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
        return event_data(e.at, self.get_actor(e), e.verb, e.detail, e.before, e.after, e.reason)


def event_data(at, actor, verb, detail, before, after, reason, visible: bool = True) -> dict:
    """A timeline event as the API shows it: detail and reason withheld from whoever may not
    read the incident's content (R54)."""
    return {"at": when(at), "actor": actor, "verb": verb, "detail": detail if visible else {},
            "before": before, "after": after, "reason": reason if visible else ""}


def timeline_data(events, visible: bool) -> list[dict]:
    """Timeline events as the API shows them: detail and reason withheld from whoever may not
    read the incident's content (R54)."""
    return [event_data(e.at, e.actor_name if e.actor_id else None, e.verb, e.detail, e.before, e.after, e.reason,
                       visible) for e in events]


def utc(value):
    """A datetime as DRF's JSON encoder writes one it is handed raw (``Z`` for UTC): how the
    notice's receipts have always shown ``signed_at``."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _warning(incident, receipts, visible: bool):
    """The active warning; only its level to whoever may not read the content (R54)."""
    warning = getattr(incident, "warning", None)
    if warning is None or warning.state != "active":
        return None
    if not visible:
        return {"level": warning.level}
    notice = warning.current
    return {"level": warning.level, "subject": notice.subject, "scope": notice.scope, "matters": notice.matters,
            "measures": notice.measures, "delivery": notice.delivery, "start_at": when(notice.start_at),
            "issuing_body": notice.issuing_body, "issued_at": when(notice.issued_at),
            "issued_by": incident.issued_by_name, "kind": notice.kind, "notice": notice.pk,
            "receipts": [{"section": r["section"], "signed_at": utc(r["signed_at"]), "signed_by": r["signed_by"]}
                         for r in receipts]}


def _response(incident, stable_days):
    """The response, its lift eligibility judged against the level's ``stable_days`` (read
    with the incident's parts: no query)."""
    response = getattr(incident, "response", None)
    if response is None:
        return None
    return {"level": response.level, "state": response.state, "proposed_level": response.proposed_level,
            "activated_at": when(response.activated_at), "level_since": when(response.level_since),
            "lifted_at": when(response.lifted_at), "stable_working_days": response.stable_working_days,
            "lift_eligible": lift_eligible(response, stable_days=stable_days)}


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


class ReportOut(serializers.Serializer):
    """API.md v1.1 "More of the incident": a report, without its text."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    section = serializers.CharField(allow_null=True)
    zero = serializers.BooleanField()
    submitted_at = serializers.DateTimeField()
    submitted_by = serializers.CharField()


class StatementOut(serializers.Serializer):
    """API.md v1.1 "More of the incident": a statement and its state."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    section = serializers.CharField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["draft", "approved", "rejected", "released"])
    drafted_by = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)


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


def consultations_data(consultations, visible: bool) -> list[dict]:
    """API.md v1.1: the incident's consultations (R35) with their decisions and work orders
    (an order's ``deadline`` is its ``order`` deadline). Agenda, minutes and decision texts
    are content (R54)."""
    return [{
        "id": c["id"], "agenda": c["agenda"] if visible else "", "convened_by": c["convened_by"],
        "convened_at": when(c["convened_at"]), "participants": [u["username"] for u in c["participants"]],
        "sections": [s["code"] for s in c["consultation_sections"]], "outside": c["outside"] if visible else [],
        "minutes": c["minutes"] if visible else "", "recorded_at": when(c["recorded_at"]),
        "recorded_by": c["recorded_by"],
        "decisions": [{
            "id": d["id"], "text": d["text"] if visible else "", "section": d["section"],
            "due_at": when(d["due_at"]), "deadline": d["deadline"], "state": d["state"],
            "completed_at": when(d["completed_at"]), "completed_by": d["completed_by"],
            "note": d["note"] if visible else ""} for d in c["decisions"]],
    } for c in consultations]


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
        """``incident``: a row of ``lifecycle.selectors.incident_queryset``; its lists come from
        ``incident_parts`` (read for the whole page by the view: ``context["parts"]``)."""
        user = self.context["request"].user
        parts = self.context["parts"][incident.pk]
        codes = [row["code"] for row in parts["sections"]]
        visible = perms.can_see_content(user, incident, set(codes))
        return {
            "id": incident.pk,
            "title": perms.shown_title(incident.title, visible, incident.pk),
            "summary": incident.summary if visible else "",
            "channel": incident.channel,
            "state": incident.state,
            "veracity": incident.veracity or None,
            "severity": incident.severity or None,
            "classified": incident.classified,
            "content_withheld": not visible,
            "discovered_at": when(incident.discovered_at),
            "reported_at": when(incident.reported_at),
            "reported_by": incident.reported_by_name,
            "keywords": incident.keywords if visible else "",
            "sections": codes,
            "sources": [{"url": r["url"], "platform": r["platform"], "mainstream_first": r["mainstream_first"],
                         "title": r["title"]} for r in parts["sources"]] if visible else [],
            "warning": _warning(incident, parts["receipts"], visible),
            "response": _response(incident, parts["stable_days"]),
            "highest_warning_level": incident.highest_warning_level,
            "highest_response_level": incident.highest_response_level,
            "deadlines": [deadline_data(d) for d in parts["deadlines"]],
            "deadline_count": parts["deadline_count"],
            "attachments": [
                {"id": a["id"], "name": a["name"], "kind": a["kind"], "size": a["size"], "sha256": a["sha256"],
                 "note": a["note"], "uploaded_at": when(a["uploaded_at"]), "uploaded_by": a["uploaded_by"],
                 "url": f"/api/v1/attachments/{a['id']}/download/"}
                for a in parts["attachments"]
            ] if visible else [],
            "timeline": [event_data(at, actor if actor_id else None, verb, detail, before, after, reason, visible)
                         for _i, _e, at, actor_id, actor, verb, detail, before, after, reason in parts["timeline"]],
            "timeline_count": parts["timeline_count"],
            "reports": [{"id": r["id"], "kind": r["kind"], "section": r["section"], "zero": r["zero"],
                         "submitted_at": when(r["submitted_at"]), "submitted_by": r["submitted_by"]}
                        for r in parts["reports"]],
            # titles, analyses and comments are content (R54)
            "statements": [{"id": r["id"], "kind": r["kind"], "section": r["section"], "title": r["title"],
                            "state": r["state"], "drafted_by": r["drafted_by"], "decided_by": r["decided_by"]}
                           for r in parts["statements"]] if visible else [],
            "judgments": [{"id": j["id"], "mode": j["mode"], "section": j["section"], "veracity": j["veracity"],
                           "severity": j["severity"] or None, "analysis": j["analysis"],
                           "recommended_warning_level": j["recommended_warning_level"],
                           "recommended_response_level": j["recommended_response_level"],
                           "participants": list(j["participants"]), "judged_by": j["judged_by"],
                           "judged_at": when(j["judged_at"])} for j in parts["judgments"]] if visible else [],
            "instructions": [{"id": i["id"], "subject": i["subject"], "proposal": i["proposal"], "level": i["level"],
                              "decision": i["decision"], "text": i["text"], "author": i["author"],
                              "written_at": when(i["written_at"])} for i in parts["instructions"]] if visible else [],
            "consultations": consultations_data(parts["consultations"], visible),
        }
