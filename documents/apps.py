from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("公文、台账与归档")

    def ready(self):
        # The receiver queues the archive build when a case closes (signals.py).
        from . import signals  # noqa: F401  (imported for its receiver once the registry is ready)
