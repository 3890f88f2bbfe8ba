from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The JSON API; an installed app for its one table, the idempotency records."""

    name = "api"
    verbose_name = _("接口")
