from celery import shared_task

from .delivery import deliver_outbox, outbox_due
from .sweep import process_deadlines


@shared_task(ignore_result=True)
def sweep():
    """Beat runs this every SWEEP_INTERVAL_SECONDS; overlapping runs skip each other's rows."""
    stats = process_deadlines()
    if stats.get("deliveries") or outbox_due():  # the sweep's, or what the services wrote since
        deliver.delay()
    return stats


@shared_task(ignore_result=True)
def deliver():
    return deliver_outbox()
