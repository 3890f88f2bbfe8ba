from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EarlyWarningsConfig(AppConfig):
    # The design card's `warnings/` app: a top-level package named `warnings` would shadow
    # Python's standard library, so the folder is early_warnings/ and the label stays.
    name = "early_warnings"
    label = "warnings"
    verbose_name = _("预警")
