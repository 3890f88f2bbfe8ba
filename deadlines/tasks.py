import logging

from celery import shared_task

from incidents import counted

from . import tallies
from .delivery import deliver_outbox, outbox_due
from .sweep import process_deadlines

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sweep():
    """Beat runs this every SWEEP_INTERVAL_SECONDS; overlapping runs skip each other's rows."""
    stats = process_deadlines()
    done = {k: v for k, v in stats.items() if v and isinstance(v, int)}
    if done:  # the console hears of a sweep only when it did something
        log.info("sweep: %s", ", ".join(f"{k} {v}" for k, v in sorted(done.items())))
    if stats.get("deliveries") or outbox_due():  # the sweep's, or what the services wrote since
        deliver.delay()
    return stats


@shared_task(ignore_result=True)
def deliver():
    return deliver_outbox()


@shared_task(ignore_result=True)
def compact_tallies():
    """Fold the change logs the database triggers write: accountability's into its tallies
    (deadlines/tallies.py) and the incidents' count's into its one row (incidents/counted.py).
    The one home of the beat's compactions (``compact-tallies``, every minute), also run by the
    page benchmark before it measures; returns how many log rows were moved."""
    return tallies.compact() + counted.compact()
