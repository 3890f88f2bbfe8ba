from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a periodic job last finished: the dashboard and /healthz show whether the
    scheduler is alive. ``name`` is the job (``sweep`` for process_deadlines)."""

    name = models.CharField(_("任务"), max_length=64, unique=True)
    beat_at = models.DateTimeField(_("最近完成时间"))

    class Meta:
        verbose_name = _("调度心跳")
        verbose_name_plural = _("调度心跳")

    def __str__(self):
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def last(cls, name: str):
        return cls.objects.filter(name=name).values_list("beat_at", flat=True).first()
