"""The whole scheduler for real: Celery beat + a worker over Redis fire a reminder for a
deadline due a few seconds ahead, on the database clock."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from deadlines.models import Deadline, Heartbeat, Notification

from .api import Api
from .helpers import celery_process, private_redis, wait_for


@pytest.mark.integration
@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_fire_a_reminder_a_few_seconds_ahead(demo, settings):
    settings.DEADLINE_CLOCK = "database"
    api = Api(demo)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    deadline = Deadline.objects.get(incident_id=iid, kind="verification")
    remind_at = timezone.now() + dt.timedelta(seconds=6)
    Deadline.objects.filter(pk=deadline.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1), due_at=remind_at + dt.timedelta(minutes=30),
        next_action_at=remind_at)
    # Beat sends to the default queue "celery": a Redis database and key prefix of the test's
    # own keep any other worker from taking those tasks (nothing is flushed).
    with private_redis() as (url, prefix), \
            celery_process("worker", queue="celery", redis_url=url, key_prefix=prefix) as (_, worker), \
            celery_process("beat", redis_url=url, key_prefix=prefix) as (_, beat):
        note = wait_for(lambda: Notification.objects.filter(deadline=deadline, step="remind").first(), timeout=90)
        assert worker.poll() is None and beat.poll() is None
    assert note.recipient.username == "petition" and note.sequence == 30
    lag = (note.created_at - remind_at).total_seconds()
    assert -1 < lag < 30, lag  # fired when due, by the 2-second sweep (not a timing target)
    assert Heartbeat.last("sweep") is not None
