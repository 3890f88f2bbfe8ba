"""What leaves the system: group-robot webhooks and email from the outbox, retried with
backoff on failure, each sent once (R40, R54)."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from deadlines.delivery import MAX_ATTEMPTS, deliver_outbox
from deadlines.models import Delivery
from deadlines.sweep import process_deadlines
from organization.models import Section

from .api import Api, local
from .helpers import Robot


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


@pytest.fixture
def reminded(demo, robot, time_machine):
    """petition's verification reminder (30 min before due) has just been written."""
    Section.objects.filter(code="petition").update(webhook_url=robot.url)
    api = Api(demo)
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="业主", scope="全市", matters="交房延期", measures="核实",
            delivery="phone")
    Delivery.objects.all().delete()  # the notices' own outbox rows (tests/test_notices.py): here, the reminder's
    time_machine.move_to(local(2026, 11, 2, 11, 30), tick=False)
    process_deadlines()
    return iid


@pytest.mark.django_db
def test_the_section_robot_receives_the_reminder_once(reminded, robot):
    assert deliver_outbox() == {"sent": 1, "failed": 0}
    (message,) = robot.received
    assert message["msgtype"] == "text"
    assert "【提醒】信访科的预警核实将于 11-02 12:00 到期" in message["text"]["content"]
    assert f"{settings.SITE_URL}/incidents/{reminded}/" in message["text"]["content"]
    assert deliver_outbox() == {"sent": 0, "failed": 0}
    process_deadlines()  # a repeated sweep writes nothing new
    assert deliver_outbox() == {"sent": 0, "failed": 0} and len(robot.received) == 1
    assert Delivery.objects.get().state == "sent"


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_with_backoff_until_it_goes_through(reminded, robot, time_machine):
    robot.replies = [(500, {"error": "busy"}), (200, {"errcode": 45009, "errmsg": "rate limited"})]
    assert deliver_outbox()["failed"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1) and "500" in delivery.last_error
    assert delivery.next_attempt_at == local(2026, 11, 2, 11, 31)
    assert deliver_outbox() == {"sent": 0, "failed": 0}  # not before its time
    time_machine.move_to(local(2026, 11, 2, 11, 31), tick=False)
    assert deliver_outbox()["failed"] == 1  # 200 with an error code in the body is a failure too
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and "45009" in delivery.last_error
    assert delivery.next_attempt_at == local(2026, 11, 2, 11, 33)
    time_machine.move_to(local(2026, 11, 2, 11, 33), tick=False)
    assert deliver_outbox() == {"sent": 1, "failed": 0}
    delivery.refresh_from_db()
    assert delivery.state == "sent" and len(robot.received) == 3


@pytest.mark.django_db
def test_an_unreachable_robot_gives_up_after_eight_attempts(demo, time_machine):

    Delivery.objects.create(key="k", channel="webhook", target="http://127.0.0.1:9/nothing", subject="s",
                            text="t", next_attempt_at=local(2026, 11, 2, 9, 0))
    when = local(2026, 11, 2, 9, 0)
    for _ in range(MAX_ATTEMPTS):
        time_machine.move_to(when, tick=False)
        assert deliver_outbox()["failed"] == 1
        when += dt.timedelta(hours=1)
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == MAX_ATTEMPTS and delivery.next_attempt_at is None


@pytest.mark.django_db
def test_members_with_an_email_address_get_the_reminder_by_email(demo, mailoutbox, time_machine):
    demo["market"].email = "market@example.gov.cn"
    demo["market"].save()
    api = Api(demo)
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["market"])
    api.act("command", iid, "warn", level=4, subject="房企", scope="全市", matters="价格", measures="监看",
            delivery="document")
    Delivery.objects.all().delete()  # the notices' own outbox rows (tests/test_notices.py): here, the reminder's
    time_machine.move_to(local(2026, 11, 2, 11, 30), tick=False)
    process_deadlines()
    deliver_outbox()
    (mail,) = mailoutbox
    assert mail.to == ["market@example.gov.cn"]
    assert mail.subject.startswith("【提醒】房地产市场科的预警核实")
    assert f"/incidents/{iid}/" in mail.body


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
                    reason="row locks are PostgreSQL's (SQLite locks the whole database)")
@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_posted_with_no_row_lock_held_and_its_attempt_already_recorded(robot):
    """A slow robot must never hold the outbox row locked: the row is claimed under a lease and
    committed first, then posted. While the robot answers, another connection can lock the row
    at once and sees the attempt counted and the lease running."""
    delivery = Delivery.objects.create(key="webhook:lease-test", channel=Delivery.Channel.WEBHOOK, target=robot.url,
                                       subject="【提醒】", text="【提醒】测试", next_attempt_at=timezone.now())
    seen = {}

    def while_the_robot_answers():
        try:
            with transaction.atomic():
                row = Delivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
                seen.update(attempts=row.attempts, leased=row.next_attempt_at > timezone.now(), state=row.state)
        finally:
            connections.close_all()

    robot.on_receive = while_the_robot_answers
    assert connection.vendor == "postgresql"
    assert deliver_outbox() == {"sent": 1, "failed": 0}
    assert seen == {"attempts": 1, "leased": True, "state": "pending"}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("sent", 1, None)


@pytest.mark.django_db
def test_a_webhook_carries_its_outbox_message_id_for_the_receiver_to_dedupe(reminded, robot, time_machine):
    """At least once to the wire: a resend (after a worker died between sending and recording)
    carries the same X-Message-Id, the outbox row's dedupe key."""
    robot.replies = [(500, {"error": "busy"})]
    deliver_outbox()
    time_machine.move_to(local(2026, 11, 2, 11, 32), tick=False)
    deliver_outbox()
    key = Delivery.objects.get().key
    assert robot.message_ids == [key, key] and key.startswith("webhook:")
