"""Issue 10: one notice service — everyone concerned is told, in the app and through the
outbox (e-mail, group robots with DingTalk's 加签), classified content stays inside (R54); a
notice that asked for a decision is done once decided; one pending proposal at a time, the
command group withdraws it; the command group's 待研判 queue."""

import base64
import hashlib
import hmac
import urllib.parse

import pytest
from django.conf import settings

from deadlines.delivery import deliver_outbox, signed
from deadlines.models import Delivery, Heartbeat, Notification
from deadlines.sweep import process_deadlines
from organization.models import Body
from responses.models import Statement

from .api import Api, local, ready_to_respond
from .helpers import Robot, celery_process, private_redis, wait_for


@pytest.fixture
def robot():
    r = Robot(port=19431)
    yield r
    r.close()


def told(title_part, **filters):
    return sorted(Notification.objects.filter(title__contains=title_part, deadline__isnull=True, **filters)
                  .values_list("recipient__username", flat=True))


@pytest.mark.django_db
def test_a_logged_incident_reaches_the_command_group_in_the_app_by_mail_and_signed_robot(api, demo, robot,
                                                                                        mailoutbox):
    demo["command"].email = "command@example.gov.cn"
    demo["command"].save()
    Body.objects.filter(code="command").update(webhook_url=robot.url, webhook_secret="SECtest")
    iid = api.log()["id"]
    assert told("【新登记】") == ["command", "command2"]
    assert Delivery.objects.filter(channel="email", target="command@example.gov.cn").count() == 1
    assert Delivery.objects.filter(channel="webhook", target=robot.url).count() == 1
    process_deadlines()
    assert deliver_outbox()["sent"] == 2  # within one sweep and its delivery
    (mail,) = mailoutbox
    assert "【新登记】" in mail.subject and f"/incidents/{iid}/" in mail.body
    (path,) = robot.paths
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    timestamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECtest", f"{timestamp}\nSECtest".encode(), hashlib.sha256).digest())
    assert sign == expected.decode() and query["key"] == ["test"]
    assert "【新登记】" in robot.received[0]["text"]["content"]


def test_dingtalk_signing_follows_the_documented_scheme():
    url = signed("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECxyz", now_ms=1700000000000)
    digest = hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()
    assert url == ("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign="
                   + urllib.parse.quote_plus(base64.b64encode(digest)))
    assert signed("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")


@pytest.mark.django_db
def test_judged_major_tells_leadership_the_flash_report_is_due(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "judge", veracity="true", severity="major")
    (title,) = Notification.objects.filter(recipient__username="leader", title__contains="【重大舆情】") \
        .values_list("title", flat=True)
    assert "11-02 10:00" in title


@pytest.mark.django_db
def test_a_decided_proposal_leaves_no_unread_request_for_a_decision(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["petition"])
    api.act("command", iid, "propose-response", level=3, reason="扩散")
    assert told("【待审批】") == ["infohead"]
    api.act("infohead", iid, "approve-response")
    pending = Notification.objects.filter(title__startswith="【待审批】")
    assert not pending.filter(read_at__isnull=True).exists() and not pending.filter(done_at__isnull=True).exists()
    assert told("【已批准】") == ["command", "command2"]
    assert told("【启动响应】") == ["petition"]


@pytest.mark.django_db
def test_a_second_proposal_is_refused_and_the_command_group_withdraws_the_pending_one(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=3, reason="扩散")
    refused = api.client("command").post(f"/api/v1/incidents/{iid}/propose-response/", {"level": 2}, format="json")
    assert refused.status_code == 409 and "Ⅲ级" in refused.json()["detail"]
    assert api.client("duty").post(f"/api/v1/incidents/{iid}/withdraw-proposal/", {"reason": "x"},
                                     format="json").status_code == 403
    api.act("command", iid, "withdraw-proposal", expect=400)  # a reason is required
    incident = api.act("command", iid, "withdraw-proposal", reason="改为Ⅱ级")
    assert incident["response"] is None
    assert told("【已撤回】") == ["infohead"]
    assert not Notification.objects.filter(title__startswith="【待审批】", read_at__isnull=True).exists()
    api.act("command", iid, "withdraw-proposal", expect=409, reason="再撤")  # nothing pending any more
    api.act("command", iid, "propose-response", level=2, reason="扩散加剧")
    assert told("【待审批】Ⅱ") == ["leader"]


@pytest.mark.django_db
def test_warnings_statements_and_closing_reach_the_sections(api):
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    assert told("【预警通知】") == ["petition"]
    api.act("command", iid, "warn", level=2, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    assert told("【预警调整】") == ["petition"]
    api.act("petition", iid, "draft-statement", section="petition", kind="line", title="回应口径", body="正在核实")
    assert told("【待审核】") == ["command", "command2"]
    statement = Statement.objects.get(incident_id=iid)
    api.act("command", iid, "approve-statement", statement=statement.pk)
    assert not Notification.objects.filter(title__startswith="【待审核】", done_at__isnull=True).exists()
    assert told("【已审定】") == ["petition"]
    api.act("command", iid, "lift-warning", reason="平息")
    assert told("【预警解除】") == ["petition"]


@pytest.mark.django_db
def test_classified_notices_carry_no_content_in_the_app_or_outside(api, demo):
    demo["command"].email = "command@example.gov.cn"
    demo["command"].save()
    iid = api.log(classified=True)["id"]
    note = Notification.objects.get(incident_id=iid, recipient__username="command")
    assert "交房" not in note.title and "涉密" in note.title and note.body == ""
    (mail,) = Delivery.objects.filter(channel="email")
    assert "交房" not in mail.subject + mail.text


@pytest.mark.django_db
def test_the_command_group_sees_the_judgment_queue_oldest_first(api, demo, client, time_machine):
    time_machine.move_to(local(2026, 11, 2, 3, 0), tick=False)
    first = api.log(title="凌晨登记的重大舆情")["id"]
    time_machine.move_to(local(2026, 11, 2, 8, 0), tick=False)
    second = api.log(title="早上登记的舆情")["id"]
    judged = api.log(title="已研判的舆情")["id"]
    api.act("command", judged, "judge", veracity="true", severity="minor")
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    client.force_login(demo["command"])
    page = client.get("/").content.decode()
    queue = page[page.index('id="judgment-queue"'):page.index('id="deadline-watch"')]
    assert queue.index(f"#{first} ") < queue.index(f"#{second} ") and f"#{judged} " not in queue
    assert "已登记 6\xa0小时" in queue and "2 起" in queue
    client.force_login(demo["petition"])
    assert 'id="judgment-queue"' not in client.get("/").content.decode()


@pytest.mark.integration
@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set (CI sets it)")
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_send_a_logged_incident_to_the_command_group(demo, settings, robot):
    """End to end over Redis: logged at "03:00", the command group has it in the app, by
    e-mail and on its DingTalk robot (signed) within a sweep or two — no page opened."""
    settings.DEADLINE_CLOCK = "database"
    demo["command"].email = "command@example.gov.cn"
    demo["command"].save()
    Body.objects.filter(code="command").update(webhook_url=robot.url, webhook_secret="SECtest")
    iid = Api(demo).log(title="凌晨发现的重大舆情")["id"]
    assert told("【新登记】", incident_id=iid) == ["command", "command2"]
    # Beat sends to the default queue "celery": a Redis database and key prefix of the test's
    # own keep any other worker from taking those tasks (nothing is flushed).
    env = {"EMAIL_URL": "consolemail://"}
    with private_redis() as (url, prefix), \
            celery_process("worker", queue="celery", redis_url=url, key_prefix=prefix, env_extra=env) as (_, worker), \
            celery_process("beat", redis_url=url, key_prefix=prefix, env_extra=env) as (_, beat):
        wait_for(lambda: Delivery.objects.filter(state="sent").count() == 2, timeout=90)
        assert worker.poll() is None and beat.poll() is None
    assert Heartbeat.last("sweep") is not None
    (path,) = robot.paths
    assert "timestamp=" in path and "sign=" in path
    assert "凌晨发现的重大舆情" in robot.received[0]["text"]["content"]
