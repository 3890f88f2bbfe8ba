from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkplaceConfig(AppConfig):
    """The browser workplace (issue 5): server-rendered pages over the same services and the
    same access function as the API; no models of its own."""

    name = "workplace"
    verbose_name = _("工作台")
