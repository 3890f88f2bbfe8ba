from celery import shared_task

from .services import archive_ensure


@shared_task(ignore_result=True, acks_late=True)
def archive_build(incident_id: int):
    """Seal a closed case's archive (queued on closing; a no-op when it is already built)."""
    sealed = archive_ensure(incident_id=incident_id)
    return sealed.sha256 if sealed else None
