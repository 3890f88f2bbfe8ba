"""The payloads of the incident's actions and of logging one (API.md "Actions"): the one
validation of what a caller sends, used by the JSON API and the browser's forms alike."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _l
from rest_framework import serializers

from early_warnings.models import Delivery, Level
from incidents.models import Channel, Platform, Severity, Source, Veracity, validate_http_url
from incidents.models import Judgment as JudgmentModel
from responses.models import PublicityTier, ReportKind, Statement


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=1000, validators=[validate_http_url])
    platform = serializers.ChoiceField(choices=Platform.choices)

    class Meta:
        model = Source
        fields = ["url", "platform", "mainstream_first", "title"]


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
