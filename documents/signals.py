"""When a case closes (again), its sealed archive is built by the worker (R53)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from incidents.models import Incident, State

from .tasks import archive_build


@receiver(post_save, sender=Incident, dispatch_uid="documents.archive_on_close")
def archive_on_close(sender, instance, update_fields=None, **kwargs):
    # lifecycle.services.incident_close saves exactly ("state", "closed_at") on closing.
    if instance.state == State.CLOSED and update_fields and "closed_at" in update_fields:
        pk = instance.pk
        transaction.on_commit(lambda: archive_build.delay(pk))
