"""Celery: the beat schedule is declared in code, and a real worker runs our task over Redis."""

import pytest
from django.conf import settings

from organization.models import WorkCalendar
from organization.tasks import calendar_sync
from sentiment_ops.celery import app

from .helpers import broker_connection, celery_process, private_redis, wait_for


def test_beat_schedule_is_declared_in_code_and_uses_the_database_scheduler():

    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.beat_schedule["calendar-sync"]["task"] == "organization.tasks.calendar_sync"
    assert "organization.tasks.calendar_sync" in app.tasks


@pytest.mark.integration
@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_calendar_task_over_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    WorkCalendar.objects.filter(date__year=2026).delete()
    with private_redis() as (url, prefix), celery_process("worker", redis_url=url, key_prefix=prefix) as (queue, proc), \
            broker_connection(url, prefix) as broker:
        calendar_sync.apply_async(queue=queue, connection=broker)
        wait_for(lambda: WorkCalendar.objects.filter(date__year=2026).count() == 365, timeout=90)
        assert proc.poll() is None, "worker died"
