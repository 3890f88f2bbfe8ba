"""The payloads of the incident's actions and of logging one (API.md "Actions"): the one
validation of what a caller sends, used by the JSON API and the browser's forms alike."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _l
from rest_framework import serializers

from early_warnings.models import Delivery, Level
from incidents.models import Channel, Platform, Severity, Source, Veracity, validate_http_url
from incidents.models import Judgment as JudgmentModel
from organization.validators import in_range, out_of_range_message
from responses.models import PublicityTier, ReportKind, Statement

# Identifiers and counters fit PostgreSQL's bigint and integer columns: larger numbers are
# invalid input (400), never a DataError (500).
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1


def _parsed(value):
    try:
        return parse_datetime(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def naive(value) -> bool:
    """A string that reads as a date-time without an offset (e.g. ``2026-11-23T09:00``)."""
    parsed = _parsed(value)
    return parsed is not None and parsed.tzinfo is None


class OffsetDateTimeField(serializers.DateTimeField):
    """API.md: every datetime carries an offset. One without is refused (the pages attach
    Asia/Shanghai to their inputs before they get here: workplace/forms.payload_from_post), and
    one outside the accepted span of dates is refused rather than overflowing."""

    default_error_messages = {
        "offset": _l("日期时间须带时区偏移，例如 2026-11-23T09:00:00+08:00。"),
    }

    def to_internal_value(self, value):
        parsed = _parsed(value)
        if parsed is not None and parsed.tzinfo is None:
            self.fail("offset")
        if parsed is not None and not in_range(parsed):
            raise serializers.ValidationError(out_of_range_message(), code="date_range")
        result = super().to_internal_value(value)
        if not in_range(timezone.localtime(result)):
            raise serializers.ValidationError(out_of_range_message(), code="date_range")
        return result


class BoundedDateField(serializers.DateField):
    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not in_range(result):
            raise serializers.ValidationError(out_of_range_message(), code="date_range")
        return result


def identifier(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def counter(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_COUNT, **kwargs)


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
    discovered_at = OffsetDateTimeField(label=_l("发现时间"))
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
    participants = serializers.ListField(child=serializers.CharField(max_length=150), required=False, default=list)


class SectionJudgmentIn(serializers.Serializer):
    """API.md v1.1 ``section-judgment``: a responsible section's own 研判意见 (R13)."""

    section = serializers.CharField()
    veracity = serializers.ChoiceField(choices=Veracity.choices)
    analysis = serializers.CharField()
    participants = serializers.ListField(child=serializers.CharField(max_length=150), required=False, default=list)


class WarnIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    subject = serializers.CharField(max_length=200)
    scope = serializers.CharField()
    matters = serializers.CharField()
    measures = serializers.CharField()
    delivery = serializers.ChoiceField(choices=Delivery.choices)
    start_at = OffsetDateTimeField(required=False, allow_null=True, default=None)
    issuing_body = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


# A payload's field labels are what a page shows when it renders the action's form from its
# payload (workplace/templatetags action_form): Chinese, like every label.
class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(label=_l("理由"))


class OptionalReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", label=_l("理由"))


class EmptyIn(serializers.Serializer):
    pass


class CommentIn(serializers.Serializer):
    """An approval with the leader's optional 批示意见."""

    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ProposeIn(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssessIn(serializers.Serializer):
    date = BoundedDateField()
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
    notice = identifier()
    section = serializers.CharField()


class SpreadIn(serializers.Serializer):
    recorded_at = OffsetDateTimeField(required=False, default=timezone.now)
    platform = serializers.ChoiceField(choices=Platform.choices)
    posts = counter(required=False, default=0)
    views = counter(required=False, default=0)
    comments = counter(required=False, default=0)
    shares = counter(required=False, default=0)


class SupportIn(serializers.Serializer):
    content = serializers.CharField()
    addressee = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class SupportAnswerIn(serializers.Serializer):
    request = identifier()
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
    statement = identifier()


class StatementRejectIn(serializers.Serializer):
    statement = identifier()
    reason = serializers.CharField()


class AttachmentIn(serializers.Serializer):
    file = serializers.FileField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- API.md v1.1: consultations, work orders, closing -----------------------------------

class ConveneIn(serializers.Serializer):
    agenda = serializers.CharField(label=_l("会商议题"))
    participants = serializers.ListField(child=serializers.CharField(max_length=150), required=False, default=list,
                                         max_length=200, label=_l("参会人员"))
    outside = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list,
                                    max_length=50, label=_l("外部参会单位"))


class DecisionIn(serializers.Serializer):
    text = serializers.CharField(label=_l("决定事项"))
    section = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                    label=_l("承办股室"))
    due_at = OffsetDateTimeField(required=False, allow_null=True, default=None, label=_l("完成时限"))


class RecordConsultationIn(serializers.Serializer):
    consultation = identifier()
    minutes = serializers.CharField(label=_l("会商纪要"))
    decisions = DecisionIn(many=True, required=False, default=list, max_length=50)


class CompleteOrderIn(serializers.Serializer):
    order = identifier()
    note = serializers.CharField(label=_l("完成情况"))


class WaiveIn(serializers.Serializer):
    deadline = identifier()
    reason = serializers.CharField(label=_l("豁免理由"))


class CloseIn(serializers.Serializer):
    lift_warning_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                                label=_l("解除预警理由"))
