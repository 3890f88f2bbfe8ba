"""Issue 10: every slot of a repeating duty is owed (R31, API.md v1.1), and the sweep tells
without flooding — one message per person and incident, no reminder past its moment, quiet
hours deferring to one morning digest that says what was missed. Walked with time-machine."""

import datetime as dt
from collections import Counter

import pytest

from deadlines.models import Deadline, Notification
from deadlines.sweep import process_deadlines
from incidents.models import Incident
from organization.models import UnitPolicy

from .api import local, ready_to_respond

APPROVER = {1: "leader", 2: "leader", 3: "infohead"}


def responding(api, time_machine, level, sections=("petition", "market")):
    """A response at ``level`` activated at 09:00 on Monday 2026-11-02."""
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    iid = api.log()["id"]
    ready_to_respond(api, iid, sections)
    api.act("command", iid, "propose-response", level=level)
    api.act(APPROVER[level], iid, "approve-response")
    return iid


def sweep_at(time_machine, *when):
    time_machine.move_to(local(*when), tick=False)
    return process_deadlines()


def slots(iid, kind, owner=None, state=None):
    qs = Deadline.objects.filter(incident_id=iid, kind=kind)
    if owner:
        qs = qs.owned_by(owner)
    if state:
        qs = qs.filter(state=state)
    return list(qs.order_by("due_at"))


@pytest.mark.django_db
@pytest.mark.parametrize(("level", "missed", "cadence"), [(1, 8, 3), (2, 4, 6), (3, 3, 8)])
def test_a_silent_day_owes_every_status_slot(api, time_machine, level, missed, cadence):
    iid = responding(api, time_machine, level)
    stats = sweep_at(time_machine, 2026, 11, 3, 9, 1)  # one sweep after 24 h + 1 min of silence
    assert stats["slots"] >= 2 * missed
    for section in ("petition", "market"):
        gone = slots(iid, "status", section, "missed")
        assert [d.due_at for d in gone] == [local(2026, 11, 2, 9, 0) + dt.timedelta(hours=cadence * (i + 1))
                                            for i in range(missed)]
        (open_slot,) = slots(iid, "status", section, "open")
        assert open_slot.due_at == gone[-1].due_at + dt.timedelta(hours=cadence)
    figures = {r["code"]: r for r in api.get("command", "/api/v1/accountability/").json()["sections"]}
    assert figures["petition"]["missed"] == missed and figures["market"]["missed"] == missed
    # The whole day is one message per person (a digest listing every slot and step), no line twice.
    told = Counter(Notification.objects.filter(incident_id=iid, deadline__isnull=False)
                   .values_list("recipient__username", flat=True))
    assert told and max(told.values()) == 1, told
    digest = Notification.objects.get(incident_id=iid, deadline__isnull=False, recipient__username="command")
    assert len(digest.body.splitlines()) == len(set(digest.body.splitlines())) >= 2 * missed


@pytest.mark.django_db
def test_two_days_without_briefings_at_level_two_are_four_missed_briefings(api, time_machine):
    iid = responding(api, time_machine, 2)
    sweep_at(time_machine, 2026, 11, 4, 9, 1)
    assert [d.due_at for d in slots(iid, "briefing", "command", "missed")] == [
        local(2026, 11, 2, 17, 0), local(2026, 11, 3, 9, 0), local(2026, 11, 3, 17, 0), local(2026, 11, 4, 9, 0)]
    assert [d.due_at for d in slots(iid, "briefing", "command", "open")] == [local(2026, 11, 4, 17, 0)]
    assert len(slots(iid, "judgment", "command", "missed")) == 4  # 16:00, 08:00, 16:00, 08:00
    row = {r["code"]: r for r in api.get("command", "/api/v1/accountability/").json()["sections"]}["command"]
    assert row["missed"] >= 8


@pytest.mark.django_db
def test_a_report_meets_the_open_slot_and_a_missed_slot_stays_missed(api, time_machine):
    iid = responding(api, time_machine, 2, sections=("petition",))
    sweep_at(time_machine, 2026, 11, 2, 15, 1)  # the 15:00 slot is missed, the 21:00 one opens
    (first,) = slots(iid, "status", "petition", "missed")
    time_machine.move_to(local(2026, 11, 2, 16, 0), tick=False)
    api.act("petition", iid, "report", kind="status", section="petition", zero=True)
    first.refresh_from_db()
    assert first.state == "missed"  # not turned into late
    met = slots(iid, "status", "petition", "met")
    assert [d.due_at for d in met] == [local(2026, 11, 2, 21, 0)]
    (nxt,) = slots(iid, "status", "petition", "open")
    assert nxt.due_at == local(2026, 11, 2, 22, 0)  # report at 16:00 + 6 h


@pytest.mark.django_db
def test_a_level_change_replans_and_nothing_is_created_once_no_response_runs(api, time_machine):
    iid = responding(api, time_machine, 3, sections=("petition",))
    time_machine.move_to(local(2026, 11, 2, 10, 0), tick=False)
    api.act("command", iid, "propose-response", level=1)
    api.act("leader", iid, "approve-response")
    (open_slot,) = slots(iid, "status", "petition", "open")
    assert open_slot.due_at == local(2026, 11, 2, 13, 0)  # level I: every 3 hours
    assert slots(iid, "status", "petition", "cancelled")
    # The response stops running (lifted, closed): the sweep marks what is due, opens nothing.
    Incident.objects.filter(pk=iid).update(state="aftermath")
    sweep_at(time_machine, 2026, 11, 3, 9, 0)
    assert sorted(d.state for d in slots(iid, "status", "petition")) == ["cancelled", "missed"]


@pytest.mark.django_db
def test_after_an_outage_no_past_reminder_and_no_text_twice(api, time_machine):
    iid = responding(api, time_machine, 2)
    sweep_at(time_machine, 2026, 11, 2, 18, 0)  # 3 hours after the 15:00 slots, nothing ran since
    titles = list(Notification.objects.filter(incident_id=iid, deadline__isnull=False)
                  .values_list("recipient__username", "title", "body"))
    assert not [t for _u, t, _b in titles if "【提醒】" in t]
    people = [u for u, _t, _b in titles]
    assert len(people) == len(set(people))  # one message per person for this incident
    for _user, _title, body in titles:
        lines = body.splitlines()
        assert len(lines) == len(set(lines))
    command = Notification.objects.get(incident_id=iid, recipient__username="command", deadline__isnull=False)
    assert "信访科的专报（零报告）" in command.body and "房地产市场科的专报（零报告）" in command.body


@pytest.mark.django_db
def test_quiet_hours_never_hide_a_miss(api, time_machine):
    unit = UnitPolicy.current()
    unit.quiet_hours_enabled, unit.quiet_start, unit.quiet_end = True, dt.time(22, 0), dt.time(7, 0)
    unit.save()
    time_machine.move_to(local(2026, 11, 2, 20, 0), tick=False)
    iid = api.log()["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "warn", level=3, subject="s", scope="s", matters="m", measures="m", delivery="phone")
    sweep_at(time_machine, 2026, 11, 2, 23, 0)  # verification due 23:00: missed, nobody woken
    assert not Notification.objects.filter(deadline__isnull=False).exists()
    sweep_at(time_machine, 2026, 11, 3, 7, 0)
    for user in ("petition", "command", "leader"):
        (digest,) = Notification.objects.filter(recipient__username=user, deadline__isnull=False)
        assert "已逾期" in digest.title + digest.body, user
    assert not Notification.objects.filter(title__contains="【提醒】").exists()
