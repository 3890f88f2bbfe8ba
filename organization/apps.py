from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrganizationConfig(AppConfig):
    name = "organization"
    verbose_name = _("组织与策略")

    def ready(self):
        post_migrate.connect(_ensure_structure, sender=self)
        # The deploy check and the token-revoking signal receivers register on import; both
        # read the models, so they load once the app registry is ready.
        from . import checks, tokens  # noqa: F401


def _ensure_structure(sender, using="default", **kwargs):
    # The unit's structure (policy rows, the five bodies, role groups) and the calendar years
    # that chinesecalendar knows exist after every migrate, on every database. Imported here,
    # not at the top: an AppConfig module is imported before the app registry is ready, and
    # the services import models.
    from .services import calendar_import_package_years, structure_ensure

    structure_ensure()
    calendar_import_package_years()
