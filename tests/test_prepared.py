"""Statements compiled once per process (sentiment_ops.prepared): the same SQL and parameters as
compiling each time, the time re-applied to each call, and what they count always fresh."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deadlines.models import Deadline, Notification
from organization.models import Role
from sentiment_ops import prepared


def _fresh(qs):
    sql, params = qs.query.get_compiler(using="default").as_sql()
    return sql, list(params)


@pytest.mark.django_db
def test_a_kept_statement_equals_a_fresh_compilation_at_any_time():
    def build(now):
        return Deadline.objects.filter(due_at__lt=now, state="open").exclude(due_at__lt=now - dt.timedelta(hours=3))

    now = timezone.now()
    later = now + dt.timedelta(days=3, minutes=7)
    key = ("test", "deadline-window")
    assert prepared.sql(key, build, now) == _fresh(build(now))
    assert prepared.sql(key, build, later) == _fresh(build(later))  # the kept entry, a new time


@pytest.mark.django_db
def test_a_statement_that_reads_the_time_otherwise_is_compiled_each_time():
    """A parameter derived from the time that is not a datetime (here the hour) cannot be
    re-applied: such a statement is never kept, and is still right."""
    def build(now):
        return Deadline.objects.filter(kind=f"h{now.hour}")

    key = ("test", "hour")
    for hour in (3, 17):
        when = timezone.now().replace(hour=hour)
        assert prepared.sql(key, build, when) == _fresh(build(when))


@pytest.mark.django_db
def test_a_statement_that_matches_nothing_raises_empty():
    with pytest.raises(prepared.Empty):
        prepared.sql(("test", "none"), lambda now: Deadline.objects.none())
    assert prepared.fetch(("test", "none"), lambda now: Deadline.objects.none()) == []  # fetched: no rows


@pytest.mark.django_db
def test_badges_and_roles_follow_every_change_at_once(demo):
    """Only the text is kept, never a count: a new notice shows on the next page, and a role
    given to a user is read by the next request (the user's identity is part of the key)."""
    user = demo["petition"]
    client = Client()
    client.force_login(user)

    def unread():  # the navigation's unread badge, as the page prints it
        found = re.search(r'id="unread-badge">(\d+)<', client.get("/no-such-page/").content.decode())
        return int(found.group(1)) if found else 0

    before = unread()
    Notification.objects.create(recipient=user, title="t", body="b")
    assert unread() == before + 1
    assert "/incidents/new/" not in client.get("/").content.decode()
    user.groups.add(Group.objects.get(name=Role.DUTY_OFFICER))
    assert "/incidents/new/" in client.get("/").content.decode()
    assert connection.vendor in ("postgresql", "sqlite")


@pytest.mark.django_db
def test_kept_model_rows_equal_the_querysets_rows(demo):
    """``rows``: the instances, their select_related objects, annotations and prefetches
    the queryset itself gives, at each call's time."""
    from benchmarks.pages_seed import seed
    from responses.selectors import approvals

    seed(30, big_events=5, seed=4)
    user = demo["command"]
    now = timezone.now()

    def build(when):
        return (Deadline.objects.filter(due_at__lt=when).select_related("incident", "owner_section")
                .prefetch_related("incident__sections").order_by("due_at", "id")[:8])

    def seen(rows):
        return [(d.pk, d.due_at, d.incident.title, d.owner_section and d.owner_section.name,
                 sorted(s.code for s in d.incident.sections.all())) for d in rows]

    for when in (now, now - dt.timedelta(days=2), now + dt.timedelta(days=5)):
        assert seen(prepared.rows(("test", "deadlines"), build, when)) == seen(build(when))
    leader = demo["leader"]
    kept = prepared.rows(("test", "approvals", leader.pk), lambda _when: approvals(leader))
    assert [r.pk for r in kept] == [r.pk for r in approvals(leader)]
    assert prepared.rows(("test", "none"), lambda _when: Deadline.objects.none()) == []
    assert user.pk


@pytest.mark.django_db
def test_kept_statements_are_planned_once_per_connection_and_answer_at_every_time(demo, settings):
    """On PostgreSQL a kept statement runs as a prepared statement of the connection, the time
    its one parameter: past the runs PostgreSQL plans for their values (five), its kept plan
    still answers what the queryset answers at each time; ``SERVER_PREPARED=0`` sends the text."""
    from benchmarks.pages_seed import seed

    seed(30, big_events=5, seed=5)
    now = timezone.now()

    def build(when):
        return Deadline.objects.filter(due_at__lt=when, state__in=["open", "missed"]).order_by("due_at", "id").values_list("pk")[:5]

    times = [now + dt.timedelta(days=d) for d in (-40, -3, 0, 1, 2, 5, 9, 30, -1, 400)]
    for when in times:
        assert prepared.rows(("test", "planned once"), build, when) == list(build(when))
        assert prepared.fetch(("test", "planned once, fetched"), build, when) == list(build(when))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["%deadlines_deadline%LIMIT 5%"])
            assert [row[0] for row in cursor.fetchall()] == [["timestamp with time zone"]] * 2
    settings.SERVER_PREPARED = False
    with CaptureQueriesContext(connection) as queries:
        assert prepared.rows(("test", "planned once"), build, now) == list(build(now))
    assert not any("EXECUTE" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_kept_model_rows_by_ids_equal_the_querysets_rows(demo):
    """``instances_by_ids``: one incident's rows — instances, select_related objects,
    annotations, prefetches — as the queryset gives them, for each incident in turn; and the
    case page's incident as ``get_incident_for`` reads it, a 404 where the user may not see it."""
    from django.http import Http404

    from benchmarks.pages_seed import seed
    from incidents.models import Incident, TimelineEvent
    from incidents.selectors import get_incident_for
    from lifecycle.selectors import case_incident, case_queryset

    seed(20, big_events=12, seed=6)

    def build(ids):
        return (TimelineEvent.objects.filter(incident_id=ids[0]).select_related("actor", "incident")
                .prefetch_related("incident__sections").order_by("-at", "-id")[:5])

    def seen(rows):
        return [(e.pk, e.at, e.verb, e.actor and e.actor.username, e.incident.title,
                 sorted(s.code for s in e.incident.sections.all())) for e in rows]

    incidents = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    for pk in incidents:
        assert seen(prepared.instances_by_ids(("test", "events"), build, [pk])) == seen(build([pk]))
    assert prepared.instances_by_ids(("test", "none"), lambda ids: TimelineEvent.objects.none(), [1]) == []
    fields = ("pk", "title", "state", "timeline_count", "deadline_count", "reports_count", "policy_stable_days",
              "command_body_name", "highest_warning_level")
    for user in (demo["command"], demo["petition"]):
        for pk in incidents:
            try:
                expected = get_incident_for(user, pk, queryset=case_queryset(user))
            except Http404:
                with pytest.raises(Http404):
                    case_incident(user, pk)
                continue
            got = case_incident(user, pk)
            assert [getattr(got, f) for f in fields] == [getattr(expected, f) for f in fields]
            assert [s.code for s in got.sections.all()] == [s.code for s in expected.sections.all()]
            assert [d.pk for d in got.owed_deadlines] == [d.pk for d in expected.owed_deadlines]
            assert got.reported_by.username == expected.reported_by.username
    with pytest.raises(Http404):
        case_incident(demo["command"], "x")
