"""Receivers of the organisation layer's calendar signals (connected in DeadlinesConfig.ready):
organization/ imports nothing from the apps above it, so it announces and deadlines acts.

- ``calendar_confirmed``: recompute the open deadlines counted on provisional days.
- ``calendar_reminder``: put the "next year is still provisional" notice in the outbox — an
  e-mail to every active administrator and command-group member with an address and to
  ``settings.ADMINS``, and the command group's robot — once per reminder key (one a week).
"""

from django.db import connection

from . import services
from .models import Deadline


def _installed() -> bool:
    # post_migrate of organization may run before this app's tables exist (a partial migrate).
    return Deadline._meta.db_table in connection.introspection.table_names()


def on_calendar_confirmed(sender, year, **kwargs):
    if _installed():
        services.recompute_provisional(year=year)


def on_calendar_reminder(sender, year, subject, text, key, **kwargs):
    if not _installed():
        return 0
    return services.outbox_calendar_reminder(subject=subject, text=text, key=key)
