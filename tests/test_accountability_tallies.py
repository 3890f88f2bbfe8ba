"""Accountability's summary (issue 12, deadlines/tallies.py) gives exactly the figures of the
live aggregate over the deadlines: after writes through the services, the sweep, bulk updates,
bulk inserts and deletes; before and after compaction; for any period, scope and unit.

Runs on PostgreSQL (statement triggers over transition tables; the seed writes with COPY) and
on SQLite (row triggers): ``DATABASE_URL=sqlite:////tmp/x.sqlite3 pytest tests/test_accountability_tallies.py``.
"""

import datetime as dt
import functools
import random

import pytest
from django.db import connection, transaction
from django.db.models import F, Sum
from django.test import Client
from django.utils import timezone

from benchmarks.pages_seed import seed
from deadlines import accountability, services, tallies
from deadlines.models import Deadline, DeadlineState, Kind, Tally, TallyDelta
from deadlines.sweep import process_deadlines
from deadlines.tasks import compact_tallies
from incidents.models import Incident
from organization.models import Body, Section

from .api import local
from .helpers import beside_compactions, uncommitted

NOW = local(2026, 11, 17, 15, 30)
STATES = [s for s, _label in DeadlineState.choices]


def _periods(rng):
    """The benchmark's periods, the edges of months and of local days, and random ones."""
    today = NOW.date()
    periods = [(None, None), (dt.date(2000, 1, 1), None), (today.replace(day=1), None),
               (today - dt.timedelta(days=30), None), (None, today), (today.replace(day=1), today),
               (dt.date(2026, 10, 1), dt.date(2026, 10, 31)), (dt.date(2026, 10, 31), dt.date(2026, 11, 1)),
               (today, today), (today + dt.timedelta(days=1), None), (dt.date(2026, 2, 1), dt.date(2026, 3, 31))]
    for _ in range(12):
        a = today - dt.timedelta(days=rng.randrange(0, 1200))
        b = a + dt.timedelta(days=rng.choice([0, 1, 6, 27, 31, 45, 200, 800]))
        periods.append((rng.choice([a, None]) if rng.random() < 0.2 else a, rng.choice([b, None])))
    return periods


def _scopes(demo):
    petition = accountability.scope_for(demo["petition"])
    command_body = accountability.scope_for(demo["command"])
    return [accountability.Scope(everything=True), petition, command_body]


def _assert_same(demo, rng, owners=(None, "petition", "command", "info")):
    for start, end in _periods(rng):
        for scope in _scopes(demo):
            for owner in owners:
                summary = accountability.report(scope=scope, start=start, end=end, owner=owner).as_dict()
                live = accountability.report(scope=scope, start=start, end=end, owner=owner,
                                             counts=accountability.live_counts).as_dict()
                assert summary == live, (start, end, scope, owner)


def _assert_tallies_are_the_rows():
    """Compacted: the log is empty, no tally is 0, each month is the sum of its days."""
    assert not TallyDelta.objects.exists()
    assert not Tally.objects.filter(n=0).exists()
    days: dict[tuple, int] = {}
    for day, section, body, met_by, state, n in Tally.objects.filter(monthly=False).values_list(
            "day", "section", "body", "met_by", "state", "n"):
        key = (day.replace(day=1), section, body, met_by, state)
        days[key] = days.get(key, 0) + n
    months = {(day, section, body, met_by, state): n for day, section, body, met_by, state, n in
              Tally.objects.filter(monthly=True).values_list("day", "section", "body", "met_by", "state", "n")}
    assert months == days


def _writes(demo, rng, time_machine):
    """Through the services, the sweep, bulk updates, bulk inserts and deletes."""
    users = [demo[name] for name in ("petition", "infohead", "leader", "command", "duty")]
    sections, bodies = list(Section.objects.all()), list(Body.objects.all())
    incidents = list(Incident.objects.order_by("pk")[:12])
    # the services: orders, meetings on time and late, waivers, a close and a reopening
    for incident in incidents[:6]:
        for _ in range(3):
            due = NOW + dt.timedelta(hours=rng.randrange(-72, 72), minutes=rng.randrange(60))
            services.on_order(incident, rng.choice(sections), due)
    opened = list(Deadline.objects.filter(state=DeadlineState.OPEN).order_by("pk"))
    rng.shuffle(opened)
    for deadline in opened[:15]:
        services.meet(deadline, deadline.due_at + dt.timedelta(hours=rng.choice([-3, 2])), rng.choice(users))
    for deadline in opened[15:20]:
        services.waive(deadline, demo["command"], "不再需要")
    services.on_closed(incidents[6])
    services.on_reopened(incidents[6])
    services.cancel(Deadline.objects.filter(incident=incidents[7]), "test")
    # the sweep, two days on: missed rows (bulk updates) and the next slots (bulk inserts)
    time_machine.move_to(NOW + dt.timedelta(days=2), tick=False)
    swept = process_deadlines(max_batches=5)
    assert swept.get("missed") and Deadline.objects.filter(state=DeadlineState.MISSED, met_by=None).exists(), swept
    time_machine.move_to(NOW, tick=False)
    # bulk updates across local midnight and month ends, owners and people changed, states
    pks = list(Deadline.objects.values_list("pk", flat=True))
    some = lambda k: rng.sample(pks, min(k, len(pks)))  # noqa: E731
    Deadline.objects.filter(pk__in=some(20)).update(due_at=F("due_at") + dt.timedelta(hours=rng.choice([7, 9, 17])))
    Deadline.objects.filter(pk__in=some(10), owner_section__isnull=False).update(owner_section=rng.choice(sections))
    Deadline.objects.filter(pk__in=some(10)).update(met_by=rng.choice(users), state=DeadlineState.LATE)
    Deadline.objects.filter(pk__in=some(10)).update(state=rng.choice(STATES))
    Deadline.objects.filter(pk__in=some(10)).update(escalation_step="urge")  # no figure changes
    # rows at the edges of local days (16:00 UTC is midnight in Shanghai) and of months
    edges = [local(2026, 10, 31, 23, 59, 59), local(2026, 11, 1), local(2026, 11, 17, 0, 0), local(2026, 11, 16, 23, 59)]
    Deadline.objects.bulk_create([
        Deadline(incident=rng.choice(incidents), kind=Kind.ORDER, due_at=rng.choice(edges), state=rng.choice(STATES),
                 owner_section=rng.choice(sections) if i % 3 else None,
                 owner_body=None if i % 3 else rng.choice(bodies),
                 met_by=rng.choice(users) if i % 2 else None) for i in range(30)])
    Deadline.objects.filter(pk__in=some(8)).delete()


@pytest.mark.django_db
def test_the_summary_is_the_live_aggregate_before_and_after_compaction(demo, time_machine):
    rng = random.Random(12)
    time_machine.move_to(NOW, tick=False)
    seed(30, big_events=10, seed=5, now=NOW)
    tallies.compact()
    _assert_tallies_are_the_rows()
    _writes(demo, rng, time_machine)
    assert TallyDelta.objects.exists()
    _assert_same(demo, rng)  # compacted tallies + the log
    before = {p: accountability.report(scope=accountability.Scope(everything=True), start=p[0], end=p[1]).as_dict()
              for p in _periods(random.Random(1))}
    assert compact_tallies() > 0  # the beat's task
    _assert_tallies_are_the_rows()
    after = {p: accountability.report(scope=accountability.Scope(everything=True), start=p[0], end=p[1]).as_dict()
             for p in _periods(random.Random(1))}
    assert after == before  # compaction changes no figure
    _assert_same(demo, rng)
    assert tallies.compact() == 0  # nothing left to move


@pytest.mark.django_db
def test_the_page_shows_the_live_figures(demo, time_machine):
    """The page (the summary) against the live aggregate, for the command group and a section."""
    time_machine.move_to(NOW, tick=False)
    seed(20, big_events=10, seed=6, now=NOW)
    _writes(demo, random.Random(3), time_machine)
    for name in ("command", "petition"):
        client = Client()
        client.force_login(demo[name])
        scope = accountability.scope_for(demo[name])
        for query, start, end in (("?from=2000-01-01", dt.date(2000, 1, 1), None),
                                  ("", NOW.date().replace(day=1), NOW.date()),
                                  ("?from=2026-10-18", dt.date(2026, 10, 18), None)):
            page = client.get(f"/accountability/{query}").context["report"].as_dict()
            live = accountability.report(scope=scope, start=start, end=end, counts=accountability.live_counts).as_dict()
            assert page == live and page["sections"], (name, query)
            assert sum(row["owed"] for row in page["sections"]) > 0


@pytest.mark.django_db
def test_every_writer_is_counted(demo, time_machine):
    """A row written, changed and deleted moves its tally at once (before any compaction)."""
    time_machine.move_to(NOW, tick=False)
    seed(3, big_events=5, seed=7, now=NOW)
    petition = Section.objects.get(code="petition")

    def owed(day):
        rows = tallies.counts(day, day, states=accountability.COUNTED, sections=[petition.pk])
        return sum(row[-1] for row in rows)

    day = dt.date(2026, 11, 17)
    base = owed(day)
    d = services.on_order(Incident.objects.first(), petition, local(2026, 11, 17, 0, 0))
    eve = owed(day - dt.timedelta(days=1))
    assert owed(day) == base + 1
    Deadline.objects.filter(pk=d.pk).update(due_at=local(2026, 11, 16, 23, 59, 59))  # the local day before
    assert owed(day) == base and owed(day - dt.timedelta(days=1)) == eve + 1
    Deadline.objects.filter(pk=d.pk).update(due_at=local(2026, 11, 17, 12, 0))
    services.cancel(Deadline.objects.filter(pk=d.pk), "test")
    assert owed(day) == base
    Deadline.objects.filter(pk=d.pk).update(state=DeadlineState.MISSED)
    assert owed(day) == base + 1
    Deadline.objects.filter(pk=d.pk).delete()
    assert owed(day) == base
    logged = TallyDelta.objects.aggregate(n=Sum("n"))["n"] or 0
    compacted = Tally.objects.filter(monthly=True).aggregate(n=Sum("n"))["n"] or 0
    assert logged + compacted == Deadline.objects.count()
    assert timezone.now() == NOW


def _same_as_live():
    everything = accountability.Scope(everything=True)
    for start, end in ((None, None), (dt.date(2026, 11, 1), None), (dt.date(2026, 10, 3), dt.date(2026, 11, 16))):
        assert (accountability.report(scope=everything, start=start, end=end).as_dict()
                == accountability.report(scope=everything, start=start, end=end,
                                         counts=accountability.live_counts).as_dict()), (start, end)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
def test_compaction_beside_concurrent_writers(demo):
    """A change not yet committed when the compaction runs is neither lost nor counted twice,
    and writers and compactions side by side never deadlock."""
    with transaction.atomic():
        seed(8, big_events=5, seed=9, now=NOW)
    petition, market = Section.objects.get(code="petition"), Section.objects.get(code="market")

    def slow_writer():
        Deadline.objects.filter(owner_section=petition).update(owner_section=market)

    with uncommitted(slow_writer):
        tallies.compact()  # does not wait for the open transaction, and leaves its log rows alone
    assert TallyDelta.objects.exists()
    _same_as_live()

    pks = list(Deadline.objects.values_list("pk", flat=True))

    def writer(seed_):
        rng = random.Random(seed_)
        for _ in range(30):
            with transaction.atomic():
                # Each writer its own rows: two UPDATEs of the same random rows lock them
                # in different orders and deadlock each other, tallies or none.
                chosen = rng.sample(pks[seed_::3], 5)
                Deadline.objects.filter(pk__in=chosen).update(
                    due_at=F("due_at") + dt.timedelta(hours=rng.choice([-20, 7, 30])), state=rng.choice(STATES))

    errors = beside_compactions([functools.partial(writer, n) for n in range(3)], tallies.compact)
    assert not errors, errors
    _same_as_live()
    tallies.compact()
    _assert_tallies_are_the_rows()
    _same_as_live()
