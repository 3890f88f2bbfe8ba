"""Receivers of the organisation layer's calendar signals (connected in DeadlinesConfig.ready):
organization/ imports nothing from the apps above it, so it announces and deadlines acts.

- ``calendar_confirmed``: recompute the open deadlines counted on provisional days.
- ``calendar_reminder``: put the "next year is still provisional" notice in the outbox — an
  e-mail to every active administrator and command-group member with an address and to
  ``settings.ADMINS``, and the command group's robot — once per reminder key (one a week).
"""

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from organization.models import Body, Role, User

from . import services
from .models import Deadline, Delivery


def _installed() -> bool:
    # post_migrate of organization may run before this app's tables exist (a partial migrate).
    return Deadline._meta.db_table in connection.introspection.table_names()


def on_calendar_confirmed(sender, year, **kwargs):
    if _installed():
        services.recompute_provisional(year=year)


def on_calendar_reminder(sender, year, subject, text, key, **kwargs):
    if not _installed():
        return 0
    users = (User.objects.filter(is_active=True).exclude(email="")
             .filter(Q(is_superuser=True) | Q(groups__name__in=[Role.ADMIN, Role.COMMAND])
                     | Q(bodies__code=Body.COMMAND))
             .values_list("email", flat=True).distinct())
    addresses = sorted(set(users) | {email for _name, email in settings.ADMINS if email})
    now = timezone.now()
    rows = [Delivery(key=f"{key}:email:{address}"[:200], channel=Delivery.Channel.EMAIL, target=address,
                     subject=subject[:300], text=text, next_attempt_at=now) for address in addresses]
    command = Body.objects.filter(code=Body.COMMAND).exclude(webhook_url="").first()
    if command is not None:
        rows.append(Delivery(key=f"{key}:webhook:command", channel=Delivery.Channel.WEBHOOK,
                             target=command.webhook_url, subject=subject[:300], text=text, next_attempt_at=now))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
