"""The in-app notification centre: GET /api/v1/notifications/ (the caller's own), unread
count, mark read. Also the writer for notices that belong to no deadline."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    step = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "incident", "deadline", "step", "title", "body", "link", "created_at", "read_at"]

    def get_step(self, obj) -> str | None:
        return obj.step or None


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; get_queryset is the caller's own

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        qs = Notification.objects.filter(recipient=self.request.user).order_by("-created_at", "-id")
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_queryset().filter(pk=pk).first()
        if notification is None:
            from django.http import Http404

            raise Http404
        notification_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked": {"type": "integer"}}}})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notification_mark_read(user=request.user)})

    @extend_schema(responses={200: {"type": "object", "properties": {"unread": {"type": "integer"}}}})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(request.user)})


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notice_send(*, incident, user_ids, title: str, body: str = "") -> int:
    """A notice that belongs to no deadline (a proposal to decide, a warning to sign):
    written in the caller's transaction. A classified incident's content stays inside."""
    from django.utils.translation import gettext as _

    if incident.classified:
        title, body = _("您有一项涉密事件 #%(id)s 的新事项，请登录系统查看。") % {"id": incident.pk}, ""
    rows = [Notification(recipient_id=uid, incident=incident, title=title[:300], body=body,
                         link=f"/incidents/{incident.pk}/") for uid in set(user_ids) if uid]
    Notification.objects.bulk_create(rows)
    return len(rows)
