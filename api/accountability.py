"""``GET /api/v1/accountability/``: R41 figures per section, body and person."""

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from deadlines import accountability


class _Figures(serializers.Serializer):
    owed = serializers.IntegerField(help_text="met + late + missed + open + waived (cancelled excluded)")
    met = serializers.IntegerField()
    late = serializers.IntegerField()
    missed = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField(help_text="open and already past due_at")
    waived = serializers.IntegerField(help_text="released by the command group at closing, with a reason")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="met / (met + late + missed)")


class UnitRowSerializer(_Figures):
    kind = serializers.ChoiceField(choices=["section", "body"])
    code = serializers.CharField()
    name = serializers.CharField()


class PersonRowSerializer(_Figures):
    username = serializers.CharField()
    full_name = serializers.CharField()


class AccountabilitySerializer(serializers.Serializer):
    sections = UnitRowSerializer(many=True)
    people = PersonRowSerializer(many=True)


class AccountabilityView(APIView):
    """Who owed what and how it went (R41). Command group, leadership, the auditor and
    superusers see every row; a member of a section or body sees that unit's rows and their
    own person row; anyone else 403."""

    @extend_schema(
        operation_id="accountability",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="due_at from this local date (inclusive)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="due_at up to this local date (inclusive)"),
            OpenApiParameter("section", str, description="only this section or body code"),
        ],
        responses=AccountabilitySerializer,
    )
    def get(self, request):
        scope = accountability.scope_for(request.user)
        if scope is None:  # refused before the query string is read
            accountability.report_for(request.user, scope=scope)
        form = accountability.AccountabilityFilter(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        data = form.cleaned_data
        result = accountability.report_for(request.user, scope=scope, start=data["from"], end=data["to"],
                                           owner=data["section"])
        return Response(result.as_dict())
