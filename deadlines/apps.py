from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeadlinesConfig(AppConfig):
    name = "deadlines"
    verbose_name = _("期限与督办")

    def ready(self):
        # Imported once the app registry is ready: the receivers import models.
        from organization.signals import calendar_confirmed, calendar_reminder

        from . import receivers

        calendar_confirmed.connect(receivers.on_calendar_confirmed, dispatch_uid="deadlines.calendar_confirmed")
        calendar_reminder.connect(receivers.on_calendar_reminder, dispatch_uid="deadlines.calendar_reminder")
