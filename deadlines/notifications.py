"""Marking notices read, and withdrawing an incident's notices from those who lost sight of it.
Notices are written by the notice service (deadlines/notices.py) and the sweep
(deadlines/sweep.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.selectors import visible
from organization.models import User

from .models import Delivery, Notification


@transaction.atomic
def notification_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notifications_follow_access(*, incident) -> int:
    """Notifications follow access: every notice about ``incident`` to a user who may no longer
    see it (a section unassigned, a membership ended) is withdrawn — its title, body and link
    redacted, unlinked from the incident and its deadline, marked read — and its e-mail not yet
    sent is withdrawn with it. Runs in the caller's transaction, after the access change; the
    one place a later notice service calls for the same rule. Returns the notices withdrawn."""
    recipients = User.objects.filter(pk__in=Notification.objects.filter(incident=incident).values("recipient"))
    lost = [user.pk for user in recipients if not visible(user).filter(pk=incident.pk).exists()]
    if not lost:
        return 0
    notices = Notification.objects.filter(incident=incident, recipient__in=lost)
    ids = list(notices.values_list("pk", flat=True))
    title = _("一条通知已撤回：相关事件已不再由您处理。")
    Delivery.objects.filter(notification__in=ids, state=Delivery.State.PENDING).update(
        state=Delivery.State.FAILED, subject=title, text=title, next_attempt_at=None,
        last_error="withdrawn: the recipient may no longer see the incident")
    now = timezone.now()
    Notification.objects.filter(pk__in=ids, read_at__isnull=True).update(read_at=now)
    return Notification.objects.filter(pk__in=ids).update(title=title, body="", link="", incident=None, deadline=None)
