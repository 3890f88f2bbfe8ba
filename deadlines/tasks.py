from celery import shared_task

from .delivery import deliver_outbox
from .sweep import process_deadlines


@shared_task(ignore_result=True)
def sweep():
    """Beat runs this every SWEEP_INTERVAL_SECONDS; overlapping runs skip each other's rows."""
    stats = process_deadlines()
    if stats.get("deliveries"):
        deliver.delay()
    return stats


@shared_task(ignore_result=True)
def deliver():
    return deliver_outbox()
