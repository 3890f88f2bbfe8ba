"""Writers of the in-app notification centre: notices that belong to no deadline (a warning
to sign, a proposal to decide, stable days reached), written in the caller's transaction, and
marking notices read. The sweep writes the deadline steps' own (deadlines/sweep.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Notification


@transaction.atomic
def notification_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notice_send(*, incident, user_ids, title: str, body: str = "") -> int:
    """A notice that belongs to no deadline, to each of ``user_ids`` once. A classified
    incident's content stays inside (R54): a placeholder title and no body."""
    if incident.classified:
        title, body = _("您有一项涉密事件 #%(id)s 的新事项，请登录系统查看。") % {"id": incident.pk}, ""
    rows = [Notification(recipient_id=uid, incident=incident, title=title[:300], body=body,
                         link=f"/incidents/{incident.pk}/") for uid in set(user_ids) if uid]
    Notification.objects.bulk_create(rows)
    return len(rows)
