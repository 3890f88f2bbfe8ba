"""Marking notices read. Notices are written by the notice service (deadlines/notices.py)
and the sweep (deadlines/sweep.py)."""

from django.db import transaction
from django.utils import timezone

from .models import Notification


@transaction.atomic
def notification_mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
