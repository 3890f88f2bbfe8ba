"""The deadline engine (R40, R41): reminders at the leads, the escalation ladder, missed,
quiet hours, exactly once — walked through simulated time with time-machine."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from deadlines.models import Deadline, Delivery, Heartbeat, Notification
from deadlines.sweep import process_deadlines
from incidents.models import TimelineEvent
from organization import services as org
from organization.models import Section, UnitPolicy
from sentiment_ops.celery import app

from .api import Direct, local, ready_to_respond


def warned_incident(api, time_machine, level=3, classified=False, sections=("petition",)):
    """Logged, assigned and warned at 09:00 on Monday 2026-11-02: verification due 12:00."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log(classified=classified)["id"]
    api.act("command", iid, "assign", sections=list(sections))
    api.act("command", iid, "warn", level=level, subject="业主", scope="全市", matters="交房延期",
            measures="核实", delivery="phone")
    return iid


def sweep_at(time_machine, *when):
    time_machine.move_to(local(*when), tick=False)
    return process_deadlines()


def sent(deadline, step=None):
    qs = Notification.objects.filter(deadline=deadline)
    if step:
        qs = qs.filter(step=step)
    return sorted(qs.values_list("step", "sequence", "recipient__username"))


@pytest.mark.django_db
def test_reminders_at_30_and_5_minutes_then_the_whole_ladder_exactly_once(api, time_machine):
    iid = warned_incident(api, time_machine)
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    assert d.due_at == local(2026, 11, 2, 12, 0)

    assert sweep_at(time_machine, 2026, 11, 2, 11, 29) == {}  # nothing due yet
    sweep_at(time_machine, 2026, 11, 2, 11, 30)
    assert sent(d) == [("remind", 30, "petition")]
    sweep_at(time_machine, 2026, 11, 2, 11, 40)  # a second sweep adds nothing
    assert sent(d) == [("remind", 30, "petition")]
    sweep_at(time_machine, 2026, 11, 2, 11, 55)
    assert sent(d, "remind") == [("remind", 5, "petition"), ("remind", 30, "petition")]

    # Due: 催办 to the section head — petition has none, so its members — and missed.
    sweep_at(time_machine, 2026, 11, 2, 12, 0)
    d.refresh_from_db()
    assert d.state == "missed" and d.escalation_step == "urge" and d.escalated_at == local(2026, 11, 2, 12, 0)
    assert sent(d, "urge") == [("urge", 0, "petition")]
    sweep_at(time_machine, 2026, 11, 2, 12, 30)  # 督办: the command group
    assert sent(d, "supervise") == [("supervise", 0, "command"), ("supervise", 0, "command2")]
    sweep_at(time_machine, 2026, 11, 2, 13, 59)
    assert not sent(d, "notify")
    sweep_at(time_machine, 2026, 11, 2, 14, 0)  # 通报: leadership
    assert sent(d, "notify") == [("notify", 0, "leader")]
    d.refresh_from_db()
    assert d.next_action_at is None  # nothing more to do for it
    sweep_at(time_machine, 2026, 11, 3, 9, 0)
    assert len(sent(d)) == 6

    verbs = list(TimelineEvent.objects.filter(incident_id=iid, verb__startswith="deadline_")
                 .values_list("verb", flat=True))
    assert verbs == ["deadline_reminded", "deadline_reminded", "deadline_urged", "deadline_missed",
                     "deadline_supervised", "deadline_notified"]

    # Met after it was missed: late, and the record keeps who did it and when.
    time_machine.move_to(local(2026, 11, 2, 15, 0), tick=False)
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    d.refresh_from_db()
    assert (d.state, d.met_by.username) == ("late", "petition")


@pytest.mark.django_db
def test_the_section_head_is_urged_when_there_is_one(api, demo, time_machine):

    org.section_add_member(section=Section.objects.get(code="petition"), user=demo["command2"], head=True)
    iid = warned_incident(api, time_machine)
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    sweep_at(time_machine, 2026, 11, 2, 12, 0)
    assert sent(d, "urge") == [("urge", 0, "command2")]


@pytest.mark.django_db
def test_a_deadline_met_on_time_is_never_escalated(api, time_machine):
    iid = warned_incident(api, time_machine)
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    sweep_at(time_machine, 2026, 11, 2, 11, 30)
    time_machine.move_to(local(2026, 11, 2, 11, 45), tick=False)
    api.act("petition", iid, "report", kind="verification", section="petition", body="已核实")
    sweep_at(time_machine, 2026, 11, 2, 18, 0)
    d.refresh_from_db()
    assert d.state == "met" and d.next_action_at is None
    assert sent(d) == [("remind", 30, "petition")]


@pytest.mark.django_db
def test_feedback_escalates_at_12_hours_but_is_missed_only_at_the_24_hour_limit(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "judge", veracity="true", severity="medium")
    d = Deadline.objects.get(incident_id=iid, kind="feedback")
    sweep_at(time_machine, 2026, 11, 2, 21, 0)
    d.refresh_from_db()
    assert d.state == "open" and sent(d, "urge")
    sweep_at(time_machine, 2026, 11, 3, 8, 59)
    d.refresh_from_db()
    assert d.state == "open"
    sweep_at(time_machine, 2026, 11, 3, 9, 0)
    d.refresh_from_db()
    assert d.state == "missed"
    response = api.get("command", "/api/v1/deadlines/", overdue=1, kind="feedback").json()
    assert [r["id"] for r in response["results"]] == [d.pk]


@pytest.fixture
def quiet_hours(db):
    unit = UnitPolicy.current()
    unit.quiet_hours_enabled, unit.quiet_start, unit.quiet_end = True, dt.time(22, 0), dt.time(7, 0)
    unit.save()


@pytest.mark.django_db
def test_quiet_hours_defer_reminders_to_their_end_and_never_drop_them(api, time_machine, quiet_hours):
    time_machine.move_to(local(2026, 11, 2, 20, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    assert d.due_at == local(2026, 11, 2, 23, 0)
    sweep_at(time_machine, 2026, 11, 2, 22, 35)
    sweep_at(time_machine, 2026, 11, 3, 1, 30)
    d.refresh_from_db()
    assert sent(d) == [] and d.state == "missed"  # marked missed on time, nobody woken
    assert d.next_action_at == local(2026, 11, 3, 7, 0)
    sweep_at(time_machine, 2026, 11, 3, 7, 0)
    # Issue 10: reminders whose "will be due" moment has passed are not sent; the steps that
    # apply now are, and the section hears in the 催办 that it was missed.
    assert [s for s, _, _ in sent(d)] == sorted(["urge", "supervise", "supervise", "notify"])


@pytest.mark.django_db
@pytest.mark.parametrize("level", [1, 2])
def test_level_one_and_two_ignore_quiet_hours(api, time_machine, quiet_hours, level):
    time_machine.move_to(local(2026, 11, 2, 20, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=level, subject="s", scope="s", matters="m", measures="m", delivery="fax")
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    sweep_at(time_machine, 2026, 11, 2, 22, 30)
    assert sent(d) == [("remind", 30, "petition")]
    sweep_at(time_machine, 2026, 11, 2, 23, 0)
    assert sent(d, "urge") == [("urge", 0, "petition")]


@pytest.mark.django_db
def test_status_deadlines_cadence_zero_report_and_escalation(api, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid, ["market"])
    api.act("command", iid, "propose-response", level=2)
    api.act("leader", iid, "approve-response")
    status = Deadline.objects.get(incident_id=iid, kind="status", state="open")
    assert status.due_at == local(2026, 11, 2, 15, 0)
    sweep_at(time_machine, 2026, 11, 2, 14, 30)
    assert sent(status) == [("remind", 30, "market")]
    time_machine.move_to(local(2026, 11, 2, 14, 50), tick=False)
    api.act("market", iid, "report", kind="status", section="market", zero=True)
    nxt = Deadline.objects.get(incident_id=iid, kind="status", state="open")
    assert nxt.due_at == local(2026, 11, 2, 20, 50)
    sweep_at(time_machine, 2026, 11, 2, 20, 50)
    assert sent(nxt, "urge") == [("urge", 0, "market")]
    status.refresh_from_db()
    assert status.state == "met" and sent(status) == [("remind", 30, "market")]


@pytest.mark.django_db
def test_classified_incidents_send_no_content(api, demo, time_machine, mailoutbox):
    demo["petition"].email = "petition@example.gov.cn"
    demo["petition"].save()
    iid = warned_incident(api, time_machine, classified=True)
    Delivery.objects.all().delete()  # the notices' own outbox rows (tests/test_notices.py): here, the reminder's
    sweep_at(time_machine, 2026, 11, 2, 11, 30)
    note = Notification.objects.get(deadline__incident_id=iid, step="remind")
    assert "业主" not in note.title and "涉密" in note.title and note.body == "请登录系统查看。"
    call_command("process_deadlines")
    (mail,) = [m for m in mailoutbox if "涉密" in m.subject]
    assert "交房" not in mail.body and f"/incidents/{iid}/" in mail.body
    notice = Notification.objects.filter(incident_id=iid, deadline__isnull=True).first()
    assert notice and "交房" not in notice.title


@pytest.mark.django_db
def test_notification_centre_lists_my_notices_counts_unread_and_marks_read(api, time_machine):
    warned_incident(api, time_machine)
    sweep_at(time_machine, 2026, 11, 2, 11, 30)
    client = api.client("petition")
    listing = client.get("/api/v1/notifications/").json()
    steps = sorted((n["step"] or "notice") for n in listing["results"])
    assert steps == ["notice", "remind"]  # the warning notice to sign, and the reminder
    assert all(n["read_at"] is None for n in listing["results"])
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    first = listing["results"][0]["id"]
    assert client.post(f"/api/v1/notifications/{first}/read/").json()["read_at"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert api.client("market").post(f"/api/v1/notifications/{first}/read/").status_code == 404
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert api.client("market").get("/api/v1/notifications/").json()["count"] == 0
    assert api.client("leader").get("/api/v1/notifications/").json()["count"] == 0


@pytest.mark.django_db
def test_proposals_notify_the_deciding_body(api):
    iid = api.log()["id"]
    ready_to_respond(api, iid)
    api.act("command", iid, "propose-response", level=3, reason="扩散")
    titles = list(Notification.objects.filter(recipient__username="infohead").values_list("title", flat=True))
    assert len(titles) == 1 and "待审批" in titles[0] and "Ⅲ" in titles[0]
    assert not Notification.objects.filter(recipient__username="leader").exists()


@pytest.mark.django_db
def test_the_heartbeat_shows_in_healthz(client, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    body = client.get("/healthz")
    assert body.status_code == 503 and body.json()["last_sweep"] == "never"
    process_deadlines()
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["db"] == "ok" and ok.json()["broker"] == "ok"
    assert ok.json()["last_sweep"].startswith("2026-11-02T09:00:00")
    time_machine.move_to(local(2026, 11, 2, 9, 2, 1), tick=False)
    assert client.get("/healthz").status_code == 503  # older than 2 minutes


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client):

    process_deadlines()
    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    try:
        body = client.get("/healthz")
    finally:
        app.conf.broker_url = old
    assert body.status_code == 503 and body.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_the_idle_sweep_is_one_query(django_assert_num_queries, demo):
    process_deadlines()
    with django_assert_num_queries(2):  # the indexed due check, then the heartbeat UPDATE
        process_deadlines()


@pytest.mark.django_db
def test_the_database_clock_decides_what_is_due(settings, api):
    """Without time travel: a reminder due a second ago in the database's clock fires."""

    settings.DEADLINE_CLOCK = "database"
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=4, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    d = Deadline.objects.get(incident_id=iid, kind="verification")
    Deadline.objects.filter(pk=d.pk).update(next_action_at=timezone.now() - dt.timedelta(seconds=1),
                                            created_at=timezone.now() - dt.timedelta(hours=1),
                                            due_at=timezone.now() + dt.timedelta(minutes=29, seconds=59))
    assert process_deadlines()["remind"] == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED concurrency runs on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_notify_twice(api, time_machine, settings):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    direct = Direct(api.users)  # 40 incidents through the services, not 120 HTTP requests
    ids = []
    for _ in range(40):
        iid = direct.log()
        direct.act("command", iid, "assign", sections=["petition", "market"])
        direct.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m",
                   delivery="phone")
        ids.append(iid)
    time_machine.move_to(local(2026, 11, 2, 14, 0), tick=False)  # every step of 80 deadlines is due
    barrier = threading.Barrier(3)

    def run():
        try:
            barrier.wait()
            process_deadlines()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Per incident (issue 10: no reminder past its moment, one digest per person and
    # incident): urge to petition and to market, supervise to 2 (one digest each for both
    # sections' deadlines), notify to leader (one digest) = 5 notices.
    assert Notification.objects.filter(deadline__isnull=False).count() == 40 * 5
    assert Deadline.objects.filter(kind="verification", state="missed").count() == 80
    assert TimelineEvent.objects.filter(verb="deadline_missed").count() == 80
    assert Heartbeat.objects.filter(name="sweep").count() == 1


