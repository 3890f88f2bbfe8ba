"""R53: the timeline is a hash chain per incident; verify_timeline finds the first broken link."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from deadlines.sweep import process_deadlines
from incidents.models import TimelineEvent
from incidents.timeline import GENESIS, head, link, verify

from .api import Api, local


def tamper(sql, params):
    """Change a row behind the application's back (on PostgreSQL past the append-only trigger)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER TABLE
            cursor.execute("ALTER TABLE incidents_timelineevent DISABLE TRIGGER incidents_timeline_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE incidents_timelineevent ENABLE TRIGGER incidents_timeline_append_only")


@pytest.fixture
def case(demo, time_machine):
    time_machine.move_to(local(2026, 11, 2, 9, 0), tick=False)
    api = Api(demo)
    iid = api.log(discovered_at=local(2026, 11, 2, 8, 50).isoformat())["id"]
    api.act("command", iid, "assign", sections=["petition"])
    api.act("command", iid, "judge", veracity="true", severity="major", analysis="业主集中维权")
    time_machine.move_to(local(2026, 11, 2, 11, 0), tick=False)
    process_deadlines()  # the sweep's events (urge, supervise …) join the same chain
    return iid


@pytest.mark.django_db
def test_every_writer_extends_one_numbered_chain(case):
    events = list(TimelineEvent.objects.filter(incident_id=case).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert any(e.actor_id is None for e in events), "the sweep wrote into the chain"
    previous = GENESIS
    for e in events:
        assert e.hash == link(previous, e)
        previous = e.hash
    assert head(case) == (events[-1].seq, events[-1].hash)
    assert verify(case) is None
    call_command("verify_timeline", "--incident", str(case))


@pytest.mark.django_db
def test_an_altered_event_is_named(case, capsys):
    third = TimelineEvent.objects.get(incident_id=case, seq=3)
    tamper("UPDATE incidents_timelineevent SET reason = %s WHERE id = %s", ["改过", third.pk])
    with pytest.raises(CommandError, match="1 of 1 timeline chain"):
        call_command("verify_timeline", "--incident", str(case))
    assert f"incident {case}: broken at event seq 3 (id {third.pk}): altered" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_removed_event_is_named(case, capsys):
    second = TimelineEvent.objects.get(incident_id=case, seq=2)
    tamper("DELETE FROM incidents_timelineevent WHERE id = %s", [second.pk])
    with pytest.raises(CommandError):
        call_command("verify_timeline")
    assert f"incident {case}: broken at event seq 2" in capsys.readouterr().err
    assert "missing" in verify(case).problem


@pytest.mark.django_db
def test_two_incidents_have_independent_chains(demo):
    api = Api(demo)
    one, two = api.log()["id"], api.log()["id"]
    assert TimelineEvent.objects.get(incident_id=one, verb="logged").seq == 1
    assert TimelineEvent.objects.get(incident_id=two, verb="logged").seq == 1
    call_command("verify_timeline")
